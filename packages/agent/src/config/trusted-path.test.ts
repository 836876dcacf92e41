// Root trusts a file only when root alone can change it and every folder above it: the cases
// that let another account swap it, and the ones that must still pass (a sticky /tmp).
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { untrustedPathProblem } from './trusted-path.js';

const me = process.geteuid?.() ?? 0;
const asRoot = me === 0;
/** A uid that is neither root nor the one the check trusts. */
const OTHER = 4242;
const trusted = asRoot ? 0 : me;
const base = mkdtempSync(join(tmpdir(), 'trusted-path-'));
chmodSync(base, 0o755);
after(() => rmSync(base, { recursive: true, force: true }));

let n = 0;
/** `<base>/<n>/dir/file`, 0755 folders and a 0644 file owned by the test's user. */
function layout(): { dir: string; file: string } {
  const dir = join(base, String(n++), 'dir');
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  chmodSync(join(dir, '..'), 0o755);
  const file = join(dir, 'file');
  writeFileSync(file, 'x');
  chmodSync(file, 0o644);
  return { dir, file };
}

void describe('untrustedPathProblem', () => {
  void test('passes a 0644 file in 0755 folders owned by the trusted user, under a sticky /tmp', () => {
    assert.equal(untrustedPathProblem(layout().file, trusted), undefined);
  });

  const cases: [string, (l: { dir: string; file: string }) => string, RegExp][] = [
    [
      'a group-writable file',
      (l) => (chmodSync(l.file, 0o664), l.file),
      /file is writable by users other than its owner/,
    ],
    [
      'a world-writable file',
      (l) => (chmodSync(l.file, 0o646), l.file),
      /file is writable by users other than its owner/,
    ],
    [
      'a folder others can write',
      (l) => (chmodSync(l.dir, 0o777), l.file),
      /dir is writable by users other than its owner, so they can replace/,
    ],
    [
      'a group-writable folder two levels up',
      (l) => (chmodSync(join(l.dir, '..'), 0o775), l.file),
      /\/\d+ is writable by users other than its owner/,
    ],
    [
      'a symbolic link in place of the file',
      (l) => {
        symlinkSync(l.file, join(l.dir, 'link'));
        return join(l.dir, 'link');
      },
      /link is a symbolic link/,
    ],
    [
      'a folder reached through a link into a folder others can write',
      (l) => {
        chmodSync(l.dir, 0o777);
        symlinkSync(l.dir, join(l.dir, '..', 'via'));
        return join(l.dir, '..', 'via', 'file');
      },
      /dir is writable by users other than its owner/,
    ],
    [
      'a file that is not there',
      (l) => join(l.dir, 'missing'),
      /missing cannot be examined \(ENOENT\)/,
    ],
  ];
  for (const [name, arrange, expected] of cases) {
    void test(`refuses ${name}`, () => {
      assert.match(untrustedPathProblem(arrange(layout()), trusted) ?? 'trusted', expected);
    });
  }

  void test('passes a sticky folder others can write when what it holds is trusted', () => {
    const l = layout();
    chmodSync(l.dir, 0o1777);
    assert.equal(untrustedPathProblem(l.file, trusted), undefined);
  });

  void test(
    'refuses a file or folder owned by another account',
    { skip: !asRoot && 'needs root to give files away' },
    () => {
      const owned = layout();
      chownSync(owned.file, OTHER, OTHER);
      assert.match(
        untrustedPathProblem(owned.file, 0) ?? '',
        /file is owned by uid 4242, not root/,
      );
      const folder = layout();
      chownSync(folder.dir, OTHER, OTHER);
      assert.match(
        untrustedPathProblem(folder.file, 0) ?? '',
        /dir is owned by uid 4242, not root, so that user/,
      );
      const sticky = layout();
      chmodSync(sticky.dir, 0o1777);
      chownSync(sticky.file, OTHER, OTHER);
      assert.match(untrustedPathProblem(sticky.file, 0) ?? '', /file is owned by uid 4242/);
    },
  );

  void test(
    'refuses a file the trusted user does not own when run unprivileged',
    { skip: asRoot && 'root is always trusted' },
    () => {
      assert.match(
        untrustedPathProblem(layout().file, me + 1000) ?? '',
        /file is owned by uid \d+, not root/,
      );
    },
  );
});
