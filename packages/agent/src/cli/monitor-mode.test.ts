// Monitor mode round trip with the real CLI: the user's lists are frozen while it is on and
// come back byte-for-byte in full mode.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ROOT_ONLY, runAzcmagent } from '../test-support/azcmagent-process.js';
import { makeTempRoot } from '../test-support/temp-root.js';

interface ListJson {
  LocalSettings: { Key: string; Value: unknown }[];
  EffectiveSettings: { Key: string; Value: unknown }[];
}

const value = (records: { Key: string; Value: unknown }[], key: string): unknown =>
  records.find((r) => r.Key === key)?.Value;

void describe('monitor mode round trip', { skip: ROOT_ONLY }, () => {
  void test("keeps the user's allowlist and blocklist and restores them in full mode", async () => {
    const temp = makeTempRoot();
    const run = (...args: string[]) => runAzcmagent(temp.root, args);
    try {
      for (const args of [
        [
          'config',
          'set',
          'extensions.allowlist',
          'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent,Contoso/Tool',
        ],
        ['config', 'set', 'extensions.blocklist', 'Microsoft.Azure.Extensions/CustomScript'],
        ['config', 'set', 'guestconfiguration.enabled', 'true'],
      ]) {
        assert.equal((await run(...args)).status, 0);
      }
      const fullBefore = JSON.parse((await run('config', 'list', '-j')).stdout) as ListJson;

      assert.equal((await run('config', 'set', 'config.mode', 'monitor')).status, 0);
      const monitor = JSON.parse((await run('config', 'list', '--json')).stdout) as ListJson;
      assert.equal(value(monitor.EffectiveSettings, 'config.mode'), 'monitor');
      assert.equal(value(monitor.EffectiveSettings, 'guestconfiguration.enabled'), false);
      assert.equal(value(monitor.EffectiveSettings, 'incomingconnections.enabled'), false);
      const effectiveAllow = value(monitor.EffectiveSettings, 'extensions.allowlist') as string[];
      assert.ok(effectiveAllow.includes('Microsoft.Azure.AzureDefenderForServers/MDE.Linux'));
      assert.ok(!effectiveAllow.includes('Contoso/Tool'));
      assert.ok(!effectiveAllow.some((name) => /CustomScript/i.test(name)));
      assert.deepEqual(
        value(monitor.LocalSettings, 'extensions.allowlist'),
        value(fullBefore.LocalSettings, 'extensions.allowlist'),
      );

      const get = await run('config', 'get', 'extensions.allowlist');
      assert.equal(get.stdout, '[Microsoft.Azure.Monitor/AzureMonitorLinuxAgent, Contoso/Tool]\n');
      assert.match(get.stderr, /monitor mode is in force and decides extensions\.allowlist/);

      const refused = await run('config', 'set', 'extensions.allowlist', 'Contoso/Other', '--add');
      assert.equal(refused.status, 2);
      assert.match(refused.stderr, /switch to full mode first/i);

      assert.equal((await run('config', 'set', 'config.mode', 'full')).status, 0);
      const fullAfter = JSON.parse((await run('config', 'list', '--json')).stdout) as ListJson;
      assert.deepEqual(fullAfter, fullBefore);
    } finally {
      temp.remove();
    }
  });
});
