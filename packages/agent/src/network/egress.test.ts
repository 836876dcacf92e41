// The route is read from localconfig.json at every connection: a change applies to the next call
// of the same running egress, and a damaged file stops calls instead of guessing a way out.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { makeTempRoot } from '../test-support/temp-root.js';
import { localConfigEgress } from './egress.js';

const temp = makeTempRoot();
after(() => temp.remove());
const egress = localConfigEgress(temp.paths, { trustedOwnerUid: process.getuid?.() ?? 0 });
const PROXY = 'http://proxy.contoso.corp:3128';

void describe('localConfigEgress', () => {
  void test('no localconfig.json yet (fresh install): direct', () => {
    assert.deepEqual(egress('Arc'), { kind: 'direct', why: 'no proxy' });
  });

  void test('a proxy set while running applies to the next call, and a bypass likewise', () => {
    temp.writeConfig(JSON.stringify({ 'proxy.url': PROXY }));
    assert.deepEqual(egress('Arc'), { kind: 'proxy', url: PROXY });
    assert.deepEqual(egress('AAD'), { kind: 'proxy', url: PROXY });
    temp.writeConfig(JSON.stringify({ 'proxy.url': PROXY, 'proxy.bypass': ['Arc'] }));
    assert.deepEqual(egress('Arc'), { kind: 'direct', why: 'bypassed' });
    assert.deepEqual(egress('AAD'), { kind: 'proxy', url: PROXY });
    temp.writeConfig('{}');
    assert.deepEqual(egress('AAD'), { kind: 'direct', why: 'no proxy' });
  });

  void test('a damaged file sends nothing, and says which file and how to repair it', () => {
    temp.writeConfig('{"proxy.url": ');
    assert.throws(
      () => egress('Arc'),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ERR_CONFIG_CORRUPT');
        assert.ok(error.message.includes(temp.paths.localConfig), error.message);
        assert.match(error.message, /Nothing was sent .* config clear/);
        return true;
      },
    );
  });

  void test('a file others can write is not trusted for the way out either', () => {
    temp.writeConfig(JSON.stringify({ 'proxy.url': 'http://attacker.example:8080' }), 0o666);
    assert.throws(() => egress('Arc'), /writable by users other than its owner/);
  });
});
