// The key-encryption key as an administrator meets it: `tether init` makes one beside the
// database (mode 0600), the server refuses to start without the right one and changes nothing,
// and `tether keys rotate-kek` moves the signing keys to a new key that the server then needs
// instead, with tokens signed before still accepted.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startControlPlane, type ControlPlane } from '../harness/index.js';
import { TETHER_BIN } from '../harness/programs.js';

function tether(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TETHER_BIN, ...args],
      { timeout: 30_000 },
      (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        });
      },
    );
  });
}

const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

void describe('key-encryption key', () => {
  let plane: ControlPlane;
  before(async () => {
    plane = await startControlPlane();
  });
  after(() => plane.stop());

  const kekFile = () => join(plane.dataDir, 'key-encryption.key');
  const serve = (...extra: string[]) =>
    tether(['server', '--data-dir', plane.dataDir, '--listen', '127.0.0.1:0', ...extra]);
  const jwks = async () => {
    const answer = await plane.admin.call('GET', `/${plane.tenantId}/discovery/v2.0/keys`, {
      token: null,
    });
    return (answer.body as { keys: { kid: string }[] }).keys.map((k) => k.kid);
  };

  void it('is made by tether init beside the database, readable by its owner only', async () => {
    assert.equal((await stat(kekFile())).mode & 0o777, 0o600);
    assert.match((await readFile(kekFile(), 'utf8')).trim(), /^[A-Za-z0-9+/]{43}=$/);
    assert.doesNotMatch(plane.logs(), /stored unencrypted/);
  });

  void it('refuses to start with a wrong or missing key, changing nothing; rotation moves to a new key', async () => {
    const token = await plane.admin.tokenFor(plane.appId, plane.password);
    const kids = await jwks();
    const database = join(plane.dataDir, 'tether.db');
    const other = join(plane.dataDir, '..', 'other.key');
    const next = join(plane.dataDir, '..', 'next.key');
    await plane.restart(async () => {
      const stored = await sha256(database);
      await writeFile(other, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });

      const wrong = await serve('--key-encryption-key-file', other);
      assert.equal(wrong.code, 1);
      assert.match(
        wrong.stderr,
        /^ERROR: the token signing keys are encrypted with key-encryption key \S+, which none of the given files holds \(given: \S+ \(.*other\.key\)\)/,
      );
      await rename(kekFile(), `${kekFile()}.away`);
      const missing = await serve();
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /give its file with --key-encryption-key-file/);
      await rename(`${kekFile()}.away`, kekFile());
      const unreadable = await serve('--key-encryption-key-file', join(plane.dataDir, 'nope.key'));
      assert.match(unreadable.stderr, /nope\.key cannot be read \(ENOENT\)/);
      assert.equal(await sha256(database), stored, 'the database is untouched');

      const rotated = await tether([
        'keys',
        'rotate-kek',
        '--data-dir',
        plane.dataDir,
        '--new-key-file',
        next,
      ]);
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.match(
        rotated.stdout,
        /^Created key-encryption key \S+ in .*next\.key\.\nRe-wrapped 1 token signing key with it/,
      );
      assert.equal((await stat(next)).mode & 0o777, 0o600);
      const old = await serve();
      assert.equal(old.code, 1, 'the old key alone no longer opens the signing keys');
      assert.match(old.stderr, /none of the given files holds/);
      await rename(next, kekFile());
    });
    assert.deepEqual(await jwks(), kids, 'the same signing keys, re-wrapped');
    const answer = await plane.admin.call('GET', '/subscriptions?api-version=2022-12-01', {
      token,
    });
    assert.equal(answer.status, 200, 'a token signed before the rotation is still accepted');
  });
});
