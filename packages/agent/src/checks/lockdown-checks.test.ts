// The S12 lock-down checks: each best practice passes or warns from what is in force.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { agentPaths } from '../paths.js';
import { corruptLoaded, loadedFromJson } from '../test-support/loaded-config.js';
import type { CheckResult } from './check.js';
import { lockdownChecks } from './lockdown-checks.js';

async function run(
  json: Record<string, unknown> | 'corrupt',
): Promise<Record<string, CheckResult>> {
  const loaded = json === 'corrupt' ? corruptLoaded() : loadedFromJson(json);
  const results = await lockdownChecks.run({
    paths: agentPaths('/test-root'),
    systemRoot: '/test-root',
    loaded,
    clock: { now: () => 0 },
  });
  return Object.fromEntries(results.map((r) => [r.id, r]));
}

function statuses(results: Record<string, CheckResult>): Record<string, string> {
  return Object.fromEntries(Object.entries(results).map(([id, r]) => [id, r.status]));
}

void describe('lock-down checks', () => {
  void test('defaults warn on every best practice', async () => {
    const results = await run({});
    assert.deepEqual(statuses(results), {
      'config-file': 'pass',
      allowlist: 'warn',
      'custom-script': 'warn',
      'guest-configuration': 'warn',
      'guest-configuration-agent-guard': 'pass',
    });
    assert.match(
      results['guest-configuration-agent-guard']?.detail ?? '',
      /\/var\/opt\/azcmagent.*azcmagent.*remediation never writes there/,
    );
    assert.match(results.allowlist?.detail ?? '', /No allowlist is set/);
    assert.match(
      results['custom-script']?.detail ?? '',
      /Microsoft\.Azure\.Extensions\/CustomScript/,
    );
  });

  void test("the seed's locked-down Linux server passes them all", async () => {
    const results = await run({
      'extensions.allowlist': ['Microsoft.Azure.Monitor/AzureMonitorLinuxAgent'],
      'guestconfiguration.enabled': false,
    });
    assert.deepEqual(new Set(Object.values(statuses(results))), new Set(['pass']));
  });

  void test('a blocklist alone warns and recommends an allowlist', async () => {
    const results = await run({
      'extensions.blocklist': ['Microsoft.Azure.Extensions/CustomScript'],
    });
    assert.equal(results.allowlist?.status, 'warn');
    assert.match(results.allowlist?.detail ?? '', /Only a blocklist is set.*Prefer an allowlist/);
    assert.equal(
      results['custom-script']?.status,
      'warn',
      'Windows custom script and run command stay allowed',
    );
    assert.doesNotMatch(
      results['custom-script']?.detail ?? '',
      /Microsoft\.Azure\.Extensions\/CustomScript/,
    );
  });

  void test('custom script in the allowlist warns', async () => {
    const results = await run({
      'extensions.allowlist': [
        'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent',
        'Microsoft.Azure.Extensions/CustomScript',
      ],
    });
    assert.equal(results.allowlist?.status, 'pass');
    assert.equal(results['custom-script']?.status, 'warn');
    assert.match(
      results['custom-script']?.detail ?? '',
      /can be installed: Microsoft\.Azure\.Extensions\/CustomScript\./,
    );
  });

  void test('monitor mode passes: managed allowlist, guest configuration off', async () => {
    assert.deepEqual(
      new Set(Object.values(statuses(await run({ 'config.mode': 'monitor' })))),
      new Set(['pass']),
    );
  });

  void test('Allow/None and a disabled extension manager pass the extension checks', async () => {
    for (const json of [
      { 'extensions.allowlist': ['Allow/None'] },
      { 'extensions.enabled': false },
    ]) {
      const results = await run(json);
      assert.equal(results.allowlist?.status, 'pass');
      assert.equal(results['custom-script']?.status, 'pass');
    }
  });

  void test('a corrupt configuration fails with the reason and is not evaluated further', async () => {
    const results = await run('corrupt');
    assert.deepEqual(statuses(results), { 'config-file': 'fail' });
    assert.match(results['config-file']?.detail ?? '', /cannot be used \(it is not valid JSON/);
  });
});
