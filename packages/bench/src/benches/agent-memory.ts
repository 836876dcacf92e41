// Resident memory of the three idle agent services (himds, gc, extension) on a real connected
// agent, beside three idle bare node processes started at the same time. Target: <= 2.5x.
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { agentPaths } from '@tether/agent/paths';
import { freePort } from '@tether/e2e/dist/harness/free-port.js';
import { startAgentFixture, waitUntil, type AgentFixture } from '../agent-fixture.js';
import { report } from '../stats.js';

const IDLE_MS = 5_000;
const SERVICES = ['himds', 'gc', 'extension'] as const;
const FLOOR_PROGRAM = 'setInterval(()=>{},1000)';

export async function run(): Promise<void> {
  let fixture: AgentFixture | undefined;
  try {
    fixture = await startAgentFixture();
    const port = await freePort();
    const pids = new Map<string, number>();
    for (const name of SERVICES) {
      const env: Record<string, string> =
        name === 'himds' ? { AZCMAGENT_HIMDS_PORT: String(port) } : {};
      pids.set(name, fixture.startService(name, env).pid);
    }
    const floors = [0, 1, 2].map((i) => ({
      label: `node -e "${FLOOR_PROGRAM}" #${i + 1}`,
      pid: fixture?.spawnNode(['-e', FLOOR_PROGRAM]).pid ?? 0,
    }));
    const status = agentPaths(fixture.agentRoot).serviceStatus('himds');
    await waitUntil('the first successful heartbeat', async () => {
      const json = JSON.parse(await readFile(status, 'utf8')) as { lastHeartbeat?: string };
      return json.lastHeartbeat;
    });
    // A fixed idle time is the measurement itself here, not a wait for a condition.
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const services = await Promise.all(
      SERVICES.map(async (name) => ({ name, kb: await vmRssKb(pids.get(name) ?? 0) })),
    );
    const floorKb = await Promise.all(floors.map((f) => vmRssKb(f.pid)));
    const mb = (kb: number): number => Math.round((kb / 1024) * 10) / 10;
    const floorMean = floorKb.reduce((a, b) => a + b, 0) / floorKb.length;
    const sum = services.reduce((a, s) => a + s.kb, 0);
    const floorSum = floorKb.reduce((a, b) => a + b, 0);
    report(
      `agent services idle (VmRSS ${IDLE_MS / 1000} s after HIMDS's first successful heartbeat; ` +
        `floors: three bare node -e "${FLOOR_PROGRAM}" started with the services; ` +
        `1-min load ${(loadavg()[0] ?? 0).toFixed(1)})`,
      [
        ...services.map((s) => ({
          metric: `service run ${s.name} RSS`,
          value: mb(s.kb),
          unit: 'MB',
          floor: mb(floorMean),
        })),
        ...floors.map((f, i) => ({
          metric: `${f.label} RSS`,
          value: mb(floorKb[i] ?? 0),
          unit: 'MB',
        })),
        {
          metric: 'sum of the three services',
          value: mb(sum),
          unit: 'MB',
          floor: mb(floorSum),
          target: '<= 2.5x floor',
        },
      ],
    );
  } finally {
    await fixture?.stop();
  }
}

async function vmRssKb(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(text)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb);
}
