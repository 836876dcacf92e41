// The Debian packages: their sizes; the one-command install to a connected machine (floor: the
// same package installed and purged with dpkg alone); and the installed agent's three services
// idle, started as their units start them, beside three bare processes of the packaged Node.js
// (target <= 2.5x). The install parts need root and a machine without azcmagent installed.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { installCommand } from '@tether/control-plane/cli/client/install-command';
import { startControlPlane, waitFor } from '@tether/e2e/dist/harness/index.js';
import { builtPackage } from '@tether/e2e/dist/packaging/built-packages.js';
import { readUnit, startUnit, type UnitProcess } from '@tether/e2e/dist/packaging/unit-process.js';
import { report } from '../stats.js';

const UNITS = '/lib/systemd/system';
const NODE = '/usr/lib/azcmagent/node/bin/node';
const FLOOR_PROGRAM = 'setInterval(()=>{},1000)';
const IDLE_MS = 5_000;
const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

export async function run(): Promise<void> {
  const debs = { azcmagent: builtPackage('azcmagent'), tether: builtPackage('tether') };
  report(
    'Debian packages (each with its own Node.js runtime)',
    Object.entries(debs).flatMap(([name, deb]) => [
      { metric: `${name} .deb`, value: mb(statSync(deb).size), unit: 'MB' },
      {
        metric: `${name} installed`,
        value: mb(Number(execFileSync('dpkg-deb', ['-f', deb, 'Installed-Size'])) * 1024),
        unit: 'MB',
      },
    ]),
  );
  const installed = spawnSync('dpkg-query', ['-W', '-f=${Status}', 'azcmagent'], {
    encoding: 'utf8',
  }).stdout.includes('ok installed');
  if (process.geteuid?.() !== 0 || installed) {
    console.log('(install and memory figures need root and a machine without azcmagent)\n');
    return;
  }

  // Floor: what dpkg alone takes for the same package.
  const floorStart = performance.now();
  execFileSync('dpkg', ['--install', debs.azcmagent], { stdio: 'ignore' });
  const floorMs = performance.now() - floorStart;
  execFileSync('dpkg', ['--purge', 'azcmagent'], { stdio: 'ignore' });

  const plane = await startControlPlane({
    serverArgs: ['--agent-package', debs.azcmagent, '--heartbeat-interval', '2s'],
  });
  const running: UnitProcess[] = [];
  try {
    const group = `/subscriptions/${plane.subscriptionId}/resourceGroups/bench`;
    await plane.admin.call('PUT', `${group}?api-version=2021-04-01`, {
      body: { location: 'westeurope' },
    });
    const created = await plane.admin.call(
      'POST',
      `${group}/providers/Microsoft.HybridCompute/onboardingTokens?api-version=2024-07-10`,
      { body: { expiresInSeconds: 3600, maxMachines: 1 } },
    );
    const token = String(created.body['token']);
    const command = installCommand({
      endpoint: plane.url,
      caPem: await readFile(plane.caCert, 'utf8'),
      token,
    }).replace(/^sudo /, '');
    const start = performance.now();
    const install = spawnSync('sh', ['-c', command], {
      encoding: 'utf8',
    });
    if (install.status !== 0) throw new Error(`the install command failed: ${install.stderr}`);
    const installMs = performance.now() - start;
    // The command ends once connect has registered the machine, Connected, with the control plane.
    report('one-command install to Connected (floor: dpkg --install of the same package)', [
      {
        metric: 'install command to Connected',
        value: Math.round(installMs),
        unit: 'ms',
        floor: Math.round(floorMs),
      },
    ]);

    const himds = await startUnit(
      readUnit(`${UNITS}/himdsd.service`),
      /himds listening on http:\/\/127\.0\.0\.1:(\d+)/,
      { AZCMAGENT_HIMDS_PORT: '0', AZCMAGENT_HEARTBEAT_SECONDS: '2' },
    );
    running.push(himds);
    for (const [name, ready] of [
      ['extd', /extension service running/],
      ['gcad', /guest configuration service running/],
    ] as const) {
      running.push(
        await startUnit(readUnit(`${UNITS}/${name}.service`), ready, {
          AZCMAGENT_HIMDS_PORT: himds.match,
        }),
      );
    }
    await waitFor(
      "HIMDS's first successful heartbeat",
      async () => {
        const status = JSON.parse(
          await readFile('/var/opt/azcmagent/status/himds/himds.json', 'utf8'),
        ) as { lastHeartbeat?: string };
        return status.lastHeartbeat;
      },
      60_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\ncontrol plane log:\n${plane.logs().slice(-3000)}`);
    });
    const floors = [0, 1, 2].map(() => spawn(NODE, ['-e', FLOOR_PROGRAM], { stdio: 'ignore' }));
    // A fixed idle time is the measurement itself here, not a wait for a condition.
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const services = await Promise.all(running.map((unit) => vmRssKb(unit.child.pid ?? 0)));
    const floorKb = await Promise.all(floors.map((child) => vmRssKb(child.pid ?? 0)));
    for (const child of floors) child.kill();
    const sum = services.reduce((a, b) => a + b, 0);
    const floorSum = floorKb.reduce((a, b) => a + b, 0);
    report(
      `installed agent idle (VmRSS after ${IDLE_MS / 1000} s; floor: three bare ${NODE} -e "${FLOOR_PROGRAM}"; 1-min load ${(loadavg()[0] ?? 0).toFixed(1)})`,
      [
        ...['himdsd', 'extd', 'gcad'].map((name, i) => ({
          metric: `${name} RSS`,
          value: mb((services[i] ?? 0) * 1024),
          unit: 'MB',
          floor: mb((floorSum / 3) * 1024),
        })),
        {
          metric: 'sum of the three services',
          value: mb(sum * 1024),
          unit: 'MB',
          floor: mb(floorSum * 1024),
          target: '<= 2.5x floor',
        },
      ],
    );
  } finally {
    for (const unit of running.reverse()) await unit.stop();
    await plane.stop();
    spawnSync('dpkg', ['--purge', 'azcmagent']);
  }
}

async function vmRssKb(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(text)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb);
}
