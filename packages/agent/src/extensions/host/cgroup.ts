// extensions.agent.cpulimit through cgroup v2: each extension's processes run in
// `<cgroup root>/tether-extensions/<Publisher.Type>/` with `cpu.max = <percent×1000> 100000`.
// Where the OS offers no writable v2 cpu controller the limit is not applied, logged once and
// reported by `report()`, and processes run unlimited.
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CpuLimitReport {
  readonly percent: number;
  readonly applied: boolean;
  /** Why the limit is not applied. */
  readonly reason?: string;
}

/** How to start a process so that it runs inside its extension's cgroup. */
export interface LimitedCommand {
  readonly file: string;
  readonly args: readonly string[];
}

export interface CpuLimiter {
  /** `/bin/sh -c command`, through a wrapper that joins the cgroup first when the limit applies. */
  command(group: string, command: string): LimitedCommand;
  report(): CpuLimitReport;
}

export interface CpuLimiterOptions {
  readonly percent: () => number;
  readonly log: (line: string) => void;
  /** `/sys/fs/cgroup` unless a test gives a fake one. */
  readonly cgroupRoot?: string;
  readonly platform?: NodeJS.Platform;
}

export const PARENT_GROUP = 'tether-extensions';
// `$0` is the cgroup.procs file, `$1` the handler's command: the shell puts itself in the group,
// then becomes the command, so nothing the handler starts escapes the limit.
const JOIN_THEN_EXEC = 'echo $$ > "$0" && exec /bin/sh -c "$1"';

export function createCpuLimiter(options: CpuLimiterOptions): CpuLimiter {
  const root = options.cgroupRoot ?? '/sys/fs/cgroup';
  const platform = options.platform ?? process.platform;
  let last: CpuLimitReport | undefined;
  const loggedReasons = new Set<string>();

  const notApplied = (percent: number, reason: string): undefined => {
    last = { percent, applied: false, reason };
    if (!loggedReasons.has(reason)) {
      loggedReasons.add(reason);
      options.log(`extensions.agent.cpulimit ${percent}% is not applied: ${reason}`);
    }
    return undefined;
  };

  /** Why the limit cannot apply here, or undefined when cgroup v2 with a writable cpu controller is there. */
  const unavailable = (): string | undefined => {
    if (platform !== 'linux') return 'cgroups exist only on Linux';
    let controllers: string;
    try {
      controllers = readFileSync(join(root, 'cgroup.controllers'), 'utf8');
    } catch {
      return `${root} is not a cgroup v2 hierarchy (no cgroup.controllers)`;
    }
    if (!controllers.split(/\s+/).includes('cpu')) {
      return `the cgroup v2 cpu controller is not available in ${root}`;
    }
    try {
      accessSync(root, constants.W_OK);
    } catch {
      return `${root} is not writable by this process`;
    }
    return undefined;
  };

  /** The group's cgroup.procs, or undefined when the limit cannot be applied. */
  const prepare = (group: string): string | undefined => {
    const percent = options.percent();
    const reason = unavailable();
    if (reason !== undefined) return notApplied(percent, reason);
    try {
      const parent = join(root, PARENT_GROUP);
      enableCpu(root);
      mkdirSync(parent, { recursive: true });
      enableCpu(parent);
      const dir = join(parent, group);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'cpu.max'), `${Math.round(percent * 1000)} 100000\n`);
      last = { percent, applied: true };
      return join(dir, 'cgroup.procs');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      return notApplied(
        percent,
        `the cgroup for ${group} cannot be set up under ${root} (${code})`,
      );
    }
  };

  return {
    command(group, command) {
      const procs = prepare(group);
      if (procs === undefined) return { file: '/bin/sh', args: ['-c', command] };
      return { file: '/bin/sh', args: ['-c', JOIN_THEN_EXEC, procs, command] };
    },
    report() {
      if (last !== undefined) return last;
      const percent = options.percent();
      const reason = unavailable();
      if (reason !== undefined) notApplied(percent, reason);
      return last ?? { percent, applied: true };
    },
  };
}

/** Lets the children of `dir` use the cpu controller (no-op when it already does). */
function enableCpu(dir: string): void {
  const file = join(dir, 'cgroup.subtree_control');
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // A fresh folder in a fake hierarchy: written below.
  }
  // The kernel lists enabled controllers as `cpu`; a fake hierarchy keeps what was written (`+cpu`).
  const enabled = current.split(/\s+/).map((word) => word.replace(/^\+/, ''));
  if (!enabled.includes('cpu')) writeFileSync(file, '+cpu\n', { flag: 'a' });
}
