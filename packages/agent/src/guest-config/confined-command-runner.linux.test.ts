// A confined command runs as root yet cannot write under the folders mapped read-only for it,
// cannot remount them, and is stopped at its timeout; if confinement fails it never runs at all.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { CommandRule } from '@tether/protocol';
import { createConfinedCommandRunner } from './confined-command-runner.linux.js';

const rule = (script: string, extra: Partial<CommandRule> = {}): CommandRule => ({
  id: 'c',
  title: 'command',
  kind: 'command',
  command: ['/bin/sh', '-c', script],
  timeoutSeconds: 20,
  compliantExitCodes: [0],
  ...extra,
});

const asRoot =
  process.platform === 'linux' && process.getuid?.() === 0
    ? false
    : 'confining a command needs root on Linux (mount namespaces and bind mounts)';

void describe('createConfinedCommandRunner', () => {
  let agent: string;
  let scratch: string;
  beforeEach(() => {
    agent = mkdtempSync(join(tmpdir(), 'gc-agent-folder-'));
    scratch = mkdtempSync(join(tmpdir(), 'gc-scratch-'));
    writeFileSync(join(agent, 'agentconfig.json'), '{"original":true}\n');
  });
  afterEach(() => {
    rmSync(agent, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });
  const run = createConfinedCommandRunner({ readOnly: [] });
  const confined = (): ReturnType<typeof createConfinedCommandRunner> =>
    createConfinedCommandRunner({ readOnly: [agent] });

  void test('runs the command and reports its exit code and output', { skip: asRoot }, async () => {
    const result = await run(rule(`echo scanned; touch ${scratch}/ran; exit 3`));
    assert.deepEqual(result, { outcome: 'exited', exitCode: 3, output: 'scanned' });
    // Outside the read-only paths the command acts on the real file system.
    assert.ok(existsSync(join(scratch, 'ran')));
  });

  void test(
    'a write under a read-only agent folder fails, the file unchanged',
    { skip: asRoot },
    async () => {
      const result = await confined()(
        rule(`echo planted > ${agent}/agentconfig.json; echo new > ${agent}/new-file`),
      );
      assert.equal(result.outcome, 'exited');
      assert.notEqual(result.outcome === 'exited' && result.exitCode, 0);
      assert.match(result.outcome === 'exited' ? result.output : '', /Read-only file system/);
      assert.equal(readFileSync(join(agent, 'agentconfig.json'), 'utf8'), '{"original":true}\n');
      assert.ok(!existsSync(join(agent, 'new-file')));
    },
  );

  void test('remounting or unmounting the agent folder is refused', { skip: asRoot }, async () => {
    const result = await confined()(
      rule(
        `mount -o remount,rw ${agent}; umount -l ${agent}; echo planted > ${agent}/agentconfig.json`,
      ),
    );
    assert.equal(result.outcome, 'exited');
    assert.match(
      result.outcome === 'exited' ? result.output : '',
      /permission denied|not permitted/i,
    );
    assert.equal(readFileSync(join(agent, 'agentconfig.json'), 'utf8'), '{"original":true}\n');
  });

  void test('the host processes are out of sight', { skip: asRoot }, async () => {
    const result = await run(rule(`ls /proc | grep -c '^[0-9]'`));
    assert.equal(result.outcome, 'exited');
    assert.ok(Number(result.outcome === 'exited' ? result.output : '') < 10);
  });

  void test(
    'a command past its timeout is killed with everything it started',
    { skip: asRoot },
    async () => {
      const result = await run(
        rule(`echo started; (sleep 3; touch ${scratch}/survived) & sleep 30`, {
          timeoutSeconds: 1,
        }),
      );
      assert.deepEqual(result, { outcome: 'timedOut', seconds: 1, output: 'started' });
      await new Promise((resolve) => setTimeout(resolve, 3500));
      assert.ok(
        !existsSync(join(scratch, 'survived')),
        'a background process outlived the timeout',
      );
    },
  );

  void test(
    'when a confinement step fails the command is refused and never runs',
    { skip: asRoot },
    async () => {
      const broken = createConfinedCommandRunner({ readOnly: [agent], setpriv: '/bin/false' });
      const result = await broken(rule(`touch ${scratch}/ran`));
      assert.equal(result.outcome, 'refused');
      assert.match(result.outcome === 'refused' ? result.reason : '', /could not be set up/);
      assert.ok(!existsSync(join(scratch, 'ran')));
    },
  );

  void test('a missing tool refuses the command, naming the tool', async () => {
    const result = await createConfinedCommandRunner({ unshare: '/nonexistent/unshare' })(
      rule('true'),
    );
    assert.equal(result.outcome, 'refused');
    assert.match(
      result.outcome === 'refused' ? result.reason : '',
      asRoot === false ? /\/nonexistent\/unshare \(util-linux\) is not installed/ : /root|Linux/,
    );
  });
});
