// The seed's configurations end to end: the server's own allowlist, blocklist, Allow/None,
// monitor mode and extensions.enabled decide what the control plane's requests may do, and the
// refusal's local reason is what the operator sees through the API.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { firstPartyPackages } from '../harness/index.js';
import {
  CUSTOM_SCRIPT,
  MONITOR_AGENT,
  propertiesOf,
  startExtensionFixture,
  statusMessageOf,
  waitFor,
  type ExtensionFixture,
} from './extension-fixture.js';

const ROOT_ONLY = process.geteuid?.() === 0 ? false : 'azcmagent connect needs root';

function versionOf(name: { publisher: string; type: string }): string {
  const found = firstPartyPackages().find(
    (p) => p.publisher === name.publisher && p.type === name.type,
  );
  if (found === undefined) throw new Error(`${name.publisher}/${name.type} is not published`);
  return found.version;
}

const customScript = (command: string): Record<string, unknown> => ({
  ...CUSTOM_SCRIPT,
  typeHandlerVersion: versionOf(CUSTOM_SCRIPT),
  settings: { commandToExecute: command },
});
const monitorAgent = (): Record<string, unknown> => ({
  ...MONITOR_AGENT,
  typeHandlerVersion: versionOf(MONITOR_AGENT),
  settings: { intervalSeconds: 1 },
});

/** Processes whose working directory is inside the agent's root: the hosted ones. */
function processesUnder(root: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`).startsWith(root)) pids.push(Number(entry));
    } catch {
      // gone, or not ours to look at
    }
  }
  return pids;
}

void describe(
  'local security controls decide, end to end',
  { skip: ROOT_ONLY, timeout: 300_000 },
  () => {
    let fx: ExtensionFixture;
    const config = async (...args: string[]): Promise<void> => {
      const run = await fx.azcmagent('config', ...args);
      assert.equal(run.status, 0, `config ${args.join(' ')}: ${run.stderr}`);
    };
    const refusedWith = async (name: string, properties: Record<string, unknown>, why: RegExp) => {
      const deployed = await fx.deploy(name, properties);
      assert.equal(deployed.ok, false, `${name} should have been refused`);
      const got = await fx.get(name);
      assert.equal(propertiesOf(got.body)['provisioningState'], 'Failed');
      assert.match(statusMessageOf(got.body), why);
    };
    /** The monitor agent's CPU figures as the control plane serves them (one point per minute). */
    const cpuPoints = async (): Promise<{ timeStamp: string; average?: number }[]> => {
      const answer = await fx.plane.admin.call(
        'GET',
        `${fx.agent.machinePath}/providers/Microsoft.Insights/metrics?api-version=2024-07-10`,
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const value = answer.body['value'] as {
        name: { value: string };
        timeseries: { data: { timeStamp: string; average?: number }[] }[];
      }[];
      return value.find((m) => m.name.value === 'Percentage CPU')?.timeseries[0]?.data ?? [];
    };

    before(async () => {
      fx = await startExtensionFixture({ machine: 'db-01' });
    });
    after(async () => {
      await fx?.stop();
    });

    void it('allowlist of the monitor agent: it installs and reports metrics, CustomScript fails with the local reason', async () => {
      const early = await fx.deploy('before-lists', customScript('echo installed before any list'));
      assert.ok(early.ok, JSON.stringify(early.error));

      await config('set', 'extensions.allowlist', 'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent');
      const monitor = await fx.deploy('monitor', monitorAgent());
      assert.ok(monitor.ok, JSON.stringify(monitor.error));
      assert.equal(monitor.result?.properties?.provisioningState, 'Succeeded');
      const points = await waitFor('metrics from the monitor agent', async () => {
        const data = await cpuPoints();
        return data.length > 0 ? data : undefined;
      });
      const cpu = points[0]?.average;
      assert.ok(typeof cpu === 'number' && cpu >= 0 && cpu <= 100, `CPU figure ${String(cpu)}`);

      await refusedWith('script', customScript('echo should not run'), /allowlist/);

      // Installed before the list was set: still there, and removable.
      const listed = await fx.azcmagent('extension', 'list', '--json');
      assert.match(listed.stdout, /"before-lists"/);
      const removed = await fx.remove('before-lists');
      assert.ok(removed.ok, JSON.stringify(removed.error));
      assert.doesNotMatch(
        (await fx.azcmagent('extension', 'list', '--json')).stdout,
        /"before-lists"/,
      );
    });

    void it('blocklist wins even over the allowlist', async () => {
      await config(
        'set',
        'extensions.allowlist',
        'Microsoft.Azure.Extensions/CustomScript',
        '--add',
      );
      await config('set', 'extensions.blocklist', 'Microsoft.Azure.Extensions/CustomScript');
      await refusedWith('blocked', customScript('echo blocked'), /blocklist/);
      await config('clear', 'extensions.blocklist');
    });

    void it('Allow/None refuses every install', async () => {
      await config('set', 'extensions.allowlist', 'Allow/None');
      await refusedWith('none-allowed', customScript('echo none'), /Allow\/None/);
      await config('clear', 'extensions.allowlist');
    });

    void it('monitor mode allows only its managed list', async () => {
      await config('set', 'config.mode', 'monitor');
      await refusedWith('in-monitor-mode', customScript('echo monitor mode'), /monitor mode/);
      const removed = await fx.remove('monitor');
      assert.ok(removed.ok, JSON.stringify(removed.error));
      const again = await fx.deploy('monitor', monitorAgent());
      assert.ok(again.ok, JSON.stringify(again.error));
      await config('set', 'config.mode', 'full');
    });

    void it('extensions.enabled false stops hosted extensions, keeps them installed and runs nothing', async () => {
      await waitFor('the monitor agent to run', () =>
        processesUnder(fx.agent.root).length > 0 ? true : undefined,
      );
      await config('set', 'extensions.enabled', 'false');
      await waitFor('hosted extensions to stop', () =>
        processesUnder(fx.agent.root).length === 0 ? true : undefined,
      );
      const handlerDir = join(
        fx.agent.root,
        `var/lib/waagent/${MONITOR_AGENT.publisher}.${MONITOR_AGENT.type}-${versionOf(MONITOR_AGENT)}`,
      );
      assert.ok(existsSync(handlerDir), 'installed extensions stay on disk');
      await refusedWith('while-disabled', customScript('echo disabled'), /extensions\.enabled/);

      await config('set', 'extensions.enabled', 'true');
      await waitFor('the monitor agent to run again', () =>
        processesUnder(fx.agent.root).length > 0 ? true : undefined,
      );
    });
  },
);
