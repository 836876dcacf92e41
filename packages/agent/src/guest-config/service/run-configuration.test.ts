// Which command runner the service's engine gets: the confined one on a server (root `/`), and
// one that refuses, saying why, under any other root.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CommandRule } from '@tether/protocol';
import type { CommandRunner } from '../evaluate-configuration.js';
import { commandRunnerFor, engineRunner } from './run-configuration.js';

const RULE: CommandRule = {
  id: 'c1',
  title: 'a custom check',
  kind: 'command',
  command: ['/bin/true'],
  timeoutSeconds: 5,
  compliantExitCodes: [0],
};

void describe('commandRunnerFor', () => {
  for (const root of ['/', '//']) {
    void test(`uses the confined runner when the agent root is ${root}`, async () => {
      const confined: CommandRunner = () =>
        Promise.resolve({ outcome: 'exited', exitCode: 0, output: 'confined ran it' });
      const outcome = await commandRunnerFor(root, () => confined)(RULE);
      assert.deepEqual(outcome, { outcome: 'exited', exitCode: 0, output: 'confined ran it' });
    });
  }

  for (const root of ['/tmp/azcmagent-test', '/var/tmp/root/']) {
    void test(`refuses every command under the root ${root}, naming it`, async () => {
      let made = false;
      const runner = commandRunnerFor(root, () => {
        made = true;
        return () => Promise.reject(new Error('must not run'));
      });
      const outcome = await runner(RULE);
      assert.equal(made, false, 'the confined runner is not even made');
      assert.equal(outcome.outcome, 'refused');
      assert.ok(outcome.outcome === 'refused');
      assert.match(outcome.reason, new RegExp(`root is ${root.replace(/[/]/g, '\\/')}, not /`));
      assert.match(outcome.reason, /act on this machine/);
    });
  }
});

void describe('engineRunner under a test root', () => {
  void test('reports a command rule as refused with the reason, and runs nothing', async () => {
    const report = await engineRunner('/tmp/azcmagent-nonexistent-root')(
      { name: 'Custom', version: '1.0', rules: [{ ...RULE, command: ['/bin/false'] }] },
      { assignmentType: 'Audit' } as Parameters<ReturnType<typeof engineRunner>>[1],
      false,
    );
    assert.equal(report.complianceStatus, 'NonCompliant');
    const reason = report.rules[0]?.reasons[0];
    assert.equal(reason?.code, 'command.refused');
    assert.match(reason?.phrase ?? '', /\/bin\/false was not run: the agent's root is/);
  });
});
