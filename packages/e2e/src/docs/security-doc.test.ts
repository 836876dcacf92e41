// docs/security.md cites, for each promise, the test file and test names that prove it: every
// cited file must exist and hold every cited name, so a renamed or deleted test fails here.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

export interface Citation {
  readonly file: string;
  readonly names: readonly string[];
}

/** The "Proved by `file`: "name"; "name"" lines of the document. */
export function citations(markdown: string): Citation[] {
  const found: Citation[] = [];
  for (const line of markdown.split('\n')) {
    const match = /Proved by `([^`]+)`:(.*)$/.exec(line);
    if (match === null) continue;
    const names = [...(match[2] ?? '').matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? '');
    found.push({ file: match[1] ?? '', names });
  }
  return found;
}

/** What is wrong with one citation, or nothing. */
function problems(citation: Citation): string[] {
  const path = join(REPO, citation.file);
  if (!/\.test\.ts$/.test(citation.file)) return [`${citation.file} is not a test file`];
  if (!existsSync(path)) return [`${citation.file} does not exist`];
  if (citation.names.length === 0) return [`${citation.file} is cited without a test name`];
  const text = readFileSync(path, 'utf8');
  return citation.names
    .filter((name) => !text.includes(name))
    .map((name) => `${citation.file} has no test named "${name}"`);
}

void describe('docs/security.md', () => {
  const doc = readFileSync(join(REPO, 'docs', 'security.md'), 'utf8');

  void it('cites only test files and test names that exist', () => {
    const cited = citations(doc);
    assert.ok(cited.length >= 20, `only ${cited.length} citations found; is the format intact?`);
    assert.deepEqual(cited.flatMap(problems), []);
  });

  void it('catches a citation of a missing file or test name', () => {
    const broken = citations(
      [
        'Proved by `packages/e2e/src/scripts/run-tests.test.ts`: "no such test name here"',
        'Proved by `packages/e2e/src/docs/missing.test.ts`: "x"',
      ].join('\n'),
    );
    assert.deepEqual(broken.flatMap(problems), [
      'packages/e2e/src/scripts/run-tests.test.ts has no test named "no such test name here"',
      'packages/e2e/src/docs/missing.test.ts does not exist',
    ]);
  });
});
