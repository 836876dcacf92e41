// scripts/run-tests.mjs as a contributor meets it: a run with failures ends with a summary
// naming each failed test, and without root the system tests are skipped, saying why.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

const RUN_TESTS = fileURLToPath(new URL('../../../../scripts/run-tests.mjs', import.meta.url));
const NOBODY = 65534;

const FAILING = `import test from 'node:test';
import assert from 'node:assert/strict';
test('outer', async (t) => {
  await t.test('adds numbers', () => assert.equal(1 + 1, 3));
  await t.test('passes', () => {});
});
test('throws', () => { throw new Error('the widget broke'); });
`;

/** The parent's environment minus the marker that makes a nested `node --test` report to it. */
function withoutTestContext(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  delete copy['NODE_TEST_CONTEXT'];
  return copy;
}

void describe('scripts/run-tests.mjs', () => {
  let tree = '';
  before(async () => {
    tree = await mkdtemp(join(tmpdir(), 'tether-run-tests-'));
    const dist = join(tree, 'packages', 'demo', 'dist');
    await mkdir(dist, { recursive: true });
    await writeFile(join(tree, 'packages', 'demo', 'package.json'), '{"type":"module"}\n');
    await writeFile(join(dist, 'widget.test.js'), FAILING);
    await writeFile(join(dist, 'users.system.test.js'), "throw new Error('must not run');\n");
    // Readable by the unprivileged user the run below switches to when the tests run as root.
    for (const path of [tree, join(tree, 'packages'), join(tree, 'packages', 'demo'), dist])
      await chmod(path, 0o755);
  });
  after(async () => {
    await rm(tree, { recursive: true, force: true });
  });

  void it('ends with a summary of each failure and skips system tests without root', () => {
    const asRoot = process.getuid?.() === 0;
    const run = spawnSync(process.execPath, [RUN_TESTS], {
      cwd: tree,
      encoding: 'utf8',
      env: withoutTestContext(process.env),
      ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    assert.equal(run.status, 1, run.stderr);
    const summary = run.stdout.slice(run.stdout.lastIndexOf('# Summary'));
    assert.match(summary, /2 failed:/);
    assert.match(
      summary,
      /packages\/demo\/dist\/widget\.test\.js:4 {2}outer > adds numbers\n {4}Expected values to be strictly equal:\n {4}2 !== 3/,
    );
    assert.match(summary, /widget\.test\.js:7 {2}throws\n {4}the widget broke/);
    assert.doesNotMatch(summary, /passes/);
    assert.match(summary, /skipped 1 system test file\(s\).*need root/);
    assert.doesNotMatch(run.stdout, /must not run/);
  });
});
