// Cold start of the `tether` client CLI beside bare `node -e 0`, measured in the same run with
// interleaved runs so that machine load affects both alike. Target: at most 1.3x the floor.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { report, summarize } from '../stats.js';
import { TETHER_BIN } from '../tether-process.js';

const RUNS = 30;
const WARMUP = 3;
/** /proc reports children's CPU time in USER_HZ ticks, which Linux fixes at 100 per second. */
const MS_PER_TICK = 10;
const FLOOR = 'node -e 0';

const CASES: readonly { label: string; args: readonly string[] }[] = [
  { label: FLOOR, args: ['-e', '0'] },
  { label: 'tether machine list --help', args: [TETHER_BIN, 'machine', 'list', '--help'] },
  { label: 'tether --version', args: [TETHER_BIN, '--version'] },
  { label: 'tether account list (not signed in)', args: [TETHER_BIN, 'account', 'list'] },
];

/** Synchronous inside: spawnSync keeps each timing free of event-loop noise. */
export function run(): Promise<void> {
  const configDir = mkdtempSync(join(tmpdir(), 'tether-cli-bench-'));
  const env = { PATH: process.env.PATH, TETHER_CONFIG_DIR: configDir };
  try {
    const samples = new Map<string, number[]>(CASES.map((c) => [c.label, []]));
    const cpuTicks = new Map<string, number>(CASES.map((c) => [c.label, 0]));
    const loadBefore = loadavg()[0] ?? 0;
    for (let i = 0; i < WARMUP + RUNS; i++) {
      // Alternate the order so no command always runs right after another.
      const order = i % 2 === 0 ? CASES : [...CASES].reverse();
      for (const c of order) {
        const ticksBefore = childCpuTicks();
        const ms = timeOnce(c.args, env);
        if (i < WARMUP) continue;
        samples.get(c.label)?.push(ms);
        cpuTicks.set(c.label, (cpuTicks.get(c.label) ?? 0) + childCpuTicks() - ticksBefore);
      }
    }
    const loadAfter = loadavg()[0] ?? 0;
    const floor = summarize(samples.get(FLOOR) ?? []);
    const cpu = (label: string): number => ((cpuTicks.get(label) ?? 0) * MS_PER_TICK) / RUNS;
    report(
      `tether CLI cold start (${RUNS} interleaved runs each, medians; 1-min load ${loadBefore.toFixed(1)} -> ${loadAfter.toFixed(1)})`,
      [
        { metric: `${FLOOR} (floor) p50`, value: floor.p50, unit: 'ms' },
        ...CASES.slice(1).map((c, index) => ({
          metric: `${c.label} p50`,
          value: summarize(samples.get(c.label) ?? []).p50,
          unit: 'ms',
          floor: floor.p50,
          ...(index === 0 ? { target: '<= 1.3x floor' } : {}),
        })),
        // CPU time is less sensitive than wall time to other work on a shared machine.
        { metric: `${FLOOR} CPU (user+sys, mean)`, value: cpu(FLOOR), unit: 'ms' },
        ...CASES.slice(1).map((c) => ({
          metric: `${c.label} CPU (mean)`,
          value: cpu(c.label),
          unit: 'ms',
          floor: cpu(FLOOR),
        })),
      ],
    );
  } finally {
    rmSync(configDir, { recursive: true, force: true });
  }
  return Promise.resolve();
}

/** CPU time of all reaped children so far (cutime + cstime in /proc/self/stat). */
function childCpuTicks(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[13]) + Number(fields[14]);
}

function timeOnce(args: readonly string[], env: NodeJS.ProcessEnv): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  // `account list` without a profile fails by design (exit 3 or so); only a crash is an error.
  if (result.status === null || result.stderr.toString().includes('unexpected failure')) {
    throw new Error(`${args.join(' ')} failed: ${result.stderr.toString()}`);
  }
  return ms;
}
