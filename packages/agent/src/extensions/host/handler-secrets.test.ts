// Protected settings a handler prints or reports are masked in the outcome the service reports
// and in the local extension state, through the real host and real handler commands.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { harness } from './testing/host-test-harness.js';

const SECRET = 'hunter2-very-secret';

function statusWith(status: string, message: string): string {
  const body = JSON.stringify([
    { version: 1.0, status: { status, code: 0, formattedMessage: { message } } },
  ]);
  return `printf '%s' '${body}' > "status/$ConfigSequenceNumber.status"`;
}

void describe('protected settings in handler output', () => {
  void test('a failing enable that prints the secret reports it masked, here and in state.json', async () => {
    const h = harness();
    try {
      await h.publish('1.0.0', {
        enable: `echo "connecting with ${SECRET}"; printf '%s' '${SECRET}' | base64; exit 1`,
      });
      const outcome = await h.host.apply(
        h.desired('1.0.0', 1, { protectedSettings: { password: SECRET } }),
        h.fetch,
      );
      assert.equal(outcome.result, 'Failed');
      assert.match(outcome.error?.message ?? '', /connecting with \*\*\*/);
      assert.ok(!JSON.stringify(outcome).includes(SECRET), JSON.stringify(outcome));
      assert.ok(!JSON.stringify(outcome).includes(Buffer.from(SECRET).toString('base64')));
      const state = readFileSync(h.temp.paths.extensionStateFile, 'utf8');
      assert.ok(!state.includes(SECRET), state);
      assert.match(h.host.installed()[0]?.status.message ?? '', /connecting with \*\*\*/);
    } finally {
      await h.remove();
    }
  });

  void test("a handler's status message naming the secret is masked; other text kept", async () => {
    const h = harness();
    try {
      await h.publish('1.0.0', { enable: statusWith('success', `token ${SECRET} accepted`) });
      await h.publish('1.1.0', { enable: statusWith('error', `bad token ${SECRET}`) });
      const ok = await h.host.apply(
        h.desired('1.0.0', 1, { protectedSettings: { nested: { token: SECRET } } }),
        h.fetch,
      );
      assert.equal(ok.status.message, 'token *** accepted');
      const bad = await h.host.apply(
        h.desired('1.1.0', 2, { protectedSettings: { nested: { token: SECRET } } }),
        h.fetch,
      );
      assert.equal(bad.result, 'Failed');
      assert.match(bad.error?.message ?? '', /bad token \*\*\*/);
      assert.ok(!JSON.stringify(bad).includes(SECRET));
      assert.ok(!readFileSync(h.temp.paths.extensionStateFile, 'utf8').includes(SECRET));
    } finally {
      await h.remove();
    }
  });

  void test('without protected settings, output is reported as printed', async () => {
    const h = harness();
    try {
      await h.publish('1.0.0', { enable: `echo "${SECRET}"; exit 2` });
      const outcome = await h.host.apply(h.desired('1.0.0', 1), h.fetch);
      assert.match(outcome.error?.message ?? '', new RegExp(SECRET));
    } finally {
      await h.remove();
    }
  });
});
