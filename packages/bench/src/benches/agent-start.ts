// Cold start of `azcmagent config list` beside bare `node -e 0`, measured in the same run with
// interleaved runs so that machine load affects both alike. Target: at most 1.5x the floor.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { report, summarize } from '../stats.js';

const RUNS = 30;
/** /proc reports children's CPU time in USER_HZ ticks, which Linux fixes at 100 per second. */
const MS_PER_TICK = 10;
const WARMUP = 3;
const BIN = fileURLToPath(new URL('../../../agent/bin/azcmagent.cjs', import.meta.url));

interface Case {
  readonly label: string;
  readonly args: readonly string[];
}

/** Synchronous inside: spawnSync keeps each timing free of event-loop noise. */
export function run(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'azcmagent-bench-'));
  const env = { PATH: process.env.PATH, AZCMAGENT_ROOT: root };
  try {
    const populated = populate(env);
    const cases: readonly Case[] = [
      { label: 'node -e 0', args: ['-e', '0'] },
      { label: 'azcmagent config list', args: [BIN, 'config', 'list'] },
      { label: 'azcmagent version', args: [BIN, 'version'] },
    ];
    const samples = new Map<string, number[]>(cases.map((c) => [c.label, []]));
    const cpuTicks = new Map<string, number>(cases.map((c) => [c.label, 0]));
    const loadBefore = loadavg()[0] ?? 0;
    for (let i = 0; i < WARMUP + RUNS; i++) {
      // Alternate the order so neither command always runs right after the other.
      const order = i % 2 === 0 ? cases : [...cases].reverse();
      for (const c of order) {
        const ticksBefore = childCpuTicks();
        const ms = timeOnce(c, env);
        if (i < WARMUP) continue;
        samples.get(c.label)?.push(ms);
        cpuTicks.set(c.label, (cpuTicks.get(c.label) ?? 0) + childCpuTicks() - ticksBefore);
      }
    }
    const loadAfter = loadavg()[0] ?? 0;
    const floor = summarize(samples.get('node -e 0') ?? []);
    const list = summarize(samples.get('azcmagent config list') ?? []);
    const version = summarize(samples.get('azcmagent version') ?? []);
    const cpu = (label: string): number => ((cpuTicks.get(label) ?? 0) * MS_PER_TICK) / RUNS;
    report(
      `agent cold start (${RUNS} interleaved runs each, medians; ${populated}; 1-min load ${loadBefore.toFixed(1)} -> ${loadAfter.toFixed(1)})`,
      [
        { metric: 'node -e 0 (floor) p50', value: floor.p50, unit: 'ms' },
        {
          metric: 'azcmagent config list p50',
          value: list.p50,
          unit: 'ms',
          floor: floor.p50,
          target: '<= 1.5x floor',
        },
        { metric: 'azcmagent config list p99', value: list.p99, unit: 'ms', floor: floor.p99 },
        { metric: 'azcmagent version p50', value: version.p50, unit: 'ms', floor: floor.p50 },
        // CPU time is less sensitive than wall time to other work on a shared machine.
        { metric: 'node -e 0 CPU (user+sys, mean)', value: cpu('node -e 0'), unit: 'ms' },
        {
          metric: 'azcmagent config list CPU (mean)',
          value: cpu('azcmagent config list'),
          unit: 'ms',
          floor: cpu('node -e 0'),
        },
      ],
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return Promise.resolve();
}

/** CPU time of all reaped children so far (cutime + cstime in /proc/self/stat). */
function childCpuTicks(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[13]) + Number(fields[14]);
}

function timeOnce(c: Case, env: NodeJS.ProcessEnv): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, c.args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) {
    throw new Error(
      `${c.label} exited ${result.status ?? 'by signal'}: ${result.stderr.toString()}`,
    );
  }
  return ms;
}

/** A realistic file when allowed to write one (root); otherwise a fresh install's defaults. */
function populate(env: NodeJS.ProcessEnv): string {
  if (process.geteuid?.() !== 0) return 'fresh install defaults (not root, so no config written)';
  for (const args of [
    [
      'extensions.allowlist',
      'Microsoft.EnterpriseCloud.Monitoring/OMSAgentForLinux,Qualys/LinuxAgent.AzureSecurityCenter,Microsoft.Azure.AzureDefenderForServers/MDE.Linux',
    ],
    ['extensions.blocklist', 'Microsoft.Azure.Extensions/CustomScript'],
    ['guestconfiguration.enabled', 'false'],
  ]) {
    const result = spawnSync(process.execPath, [BIN, 'config', 'set', ...args], { env });
    if (result.status !== 0) throw new Error(`config set failed: ${result.stderr.toString()}`);
  }
  return 'populated localconfig.json';
}
