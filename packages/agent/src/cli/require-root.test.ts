// The root gate refuses every other uid with the exact sudo command to rerun.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireRoot } from './require-root.js';

void test('root passes', () => {
  assert.doesNotThrow(() => requireRoot(['config', 'set', 'a', 'b'], 0));
});

void test('any other uid is refused, naming the command, the uid and the sudo rerun', () => {
  assert.throws(
    () => requireRoot(['config', 'set', 'extensions.allowlist', 'A/B,C/D', '--add'], 1000),
    (error: Error & { code?: string }) =>
      error.code === 'ERR_NOT_ROOT' &&
      error.message.includes(
        "'azcmagent config set' changes the agent's local security settings, which only root may do",
      ) &&
      error.message.includes('uid 1000') &&
      error.message.includes('Nothing was changed') &&
      error.message.endsWith('sudo azcmagent config set extensions.allowlist A/B,C/D --add'),
  );
  assert.throws(
    () => requireRoot(['config', 'set', 'proxy.url', "http://a b'c"], 5),
    /sudo azcmagent config set proxy\.url 'http:\/\/a b'\\''c'$/,
  );
});

void test('a platform without uids is refused', () => {
  assert.throws(() => requireRoot(['config', 'clear'], null), /uid unknown/);
});
