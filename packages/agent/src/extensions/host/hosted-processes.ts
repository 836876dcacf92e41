// Supervises extensions' hosted processes (HandlerManifest `hostedCommand`): each in its own
// process group and cgroup, output to the extension's hosted.log, restarted after it dies with
// a backoff (1 s doubling to 60 s, back to 1 s after a minute up), stopped with SIGTERM and then
// SIGKILL for the whole group. A pid file per extension lets another process (the CLI removing
// an extension) stop one this service started.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../../clock.js';
import type { CpuLimiter } from './cgroup.js';
import { signalGroup } from './process-group.js';

export interface HostedSpec {
  /** The extension resource name. */
  readonly name: string;
  readonly command: string;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly group: string;
  readonly logFile: string;
}

export interface HostedTimings {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Up this long, the next restart waits the initial backoff again. */
  readonly resetAfterMs: number;
  /** Between SIGTERM and SIGKILL. */
  readonly stopGraceMs: number;
}

export const DEFAULT_HOSTED_TIMINGS: HostedTimings = {
  initialBackoffMs: 1000,
  maxBackoffMs: 60_000,
  resetAfterMs: 60_000,
  stopGraceMs: 10_000,
};

export interface HostedProcessesOptions {
  readonly limiter: CpuLimiter;
  readonly clock: Clock;
  readonly log: (line: string) => void;
  /** Where the pid files live. */
  readonly pidDir: string;
  /** Asked before every restart: false once the extension is no longer enabled. */
  readonly shouldRun: (name: string) => boolean;
  readonly timings?: HostedTimings;
}

/** Marks a hosted process's environment, so a pid file never leads to killing a stranger. */
export const HOSTED_MARKER = 'TETHER_HOSTED_EXTENSION';

interface Supervised {
  spec: HostedSpec;
  child: ChildProcess | undefined;
  startedAt: number;
  backoffMs: number;
  restartTimer: NodeJS.Timeout | undefined;
  stopping: boolean;
  exited: Promise<void>;
}

export class HostedProcesses {
  readonly #options: HostedProcessesOptions;
  readonly #timings: HostedTimings;
  readonly #supervised = new Map<string, Supervised>();

  constructor(options: HostedProcessesOptions) {
    this.#options = options;
    this.#timings = options.timings ?? DEFAULT_HOSTED_TIMINGS;
  }

  /** Starts `spec` unless the same command already runs for that extension. */
  start(spec: HostedSpec): void {
    const current = this.#supervised.get(spec.name);
    if (current !== undefined && !current.stopping && sameSpec(current.spec, spec)) return;
    if (current !== undefined) {
      throw new Error(`hosted process of ${spec.name} must be stopped before it is replaced`);
    }
    const entry: Supervised = {
      spec,
      child: undefined,
      startedAt: 0,
      backoffMs: this.#timings.initialBackoffMs,
      restartTimer: undefined,
      stopping: false,
      exited: Promise.resolve(),
    };
    this.#supervised.set(spec.name, entry);
    this.#launch(entry);
  }

  /** The pid of the running hosted process of `name`, if any. */
  pid(name: string): number | undefined {
    return this.#supervised.get(name)?.child?.pid;
  }

  /** Stops the hosted process of `name`, whichever process on this machine started it. */
  async stop(name: string): Promise<void> {
    const entry = this.#supervised.get(name);
    if (entry !== undefined) {
      entry.stopping = true;
      clearTimeout(entry.restartTimer);
      const pid = entry.child?.pid;
      if (pid !== undefined) await this.#stopGroup(pid, entry.exited);
      this.#supervised.delete(name);
    } else {
      const pid = readPidFile(this.#pidFile(name));
      if (pid !== undefined && isHostedProcessOf(pid, name)) {
        await this.#stopGroup(pid, undefined);
      }
    }
    rmSync(this.#pidFile(name), { force: true });
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#supervised.keys()].map((name) => this.stop(name)));
  }

  #launch(entry: Supervised): void {
    const { spec } = entry;
    const { limiter, log } = this.#options;
    mkdirSync(dirname(spec.logFile), { recursive: true, mode: 0o755 });
    const fd = openSync(spec.logFile, 'a', 0o640);
    let child: ChildProcess;
    try {
      const { file, args } = limiter.command(spec.group, spec.command);
      child = spawn(file, args, {
        cwd: spec.cwd,
        env: { ...spec.env, [HOSTED_MARKER]: spec.name },
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    entry.child = child;
    entry.startedAt = this.#options.clock.now();
    entry.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        resolve();
        this.#exited(entry, child, code, signal);
      });
    });
    child.once('error', (error) =>
      log(`hosted process of ${spec.name} did not start: ${error.message}`),
    );
    if (child.pid !== undefined) {
      mkdirSync(this.#options.pidDir, { recursive: true, mode: 0o755 });
      writeFileSync(this.#pidFile(spec.name), `${child.pid}\n`, { mode: 0o644 });
      log(`hosted process of ${spec.name} started (pid ${child.pid}): ${spec.command}`);
    }
  }

  #exited(
    entry: Supervised,
    child: ChildProcess,
    code: number | null,
    signal: string | null,
  ): void {
    const { spec } = entry;
    if (entry.stopping || this.#supervised.get(spec.name) !== entry) return;
    // Whatever it left behind in its group goes too, so a restart never runs two copies.
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    const upFor = this.#options.clock.now() - entry.startedAt;
    if (upFor >= this.#timings.resetAfterMs) entry.backoffMs = this.#timings.initialBackoffMs;
    const delay = entry.backoffMs;
    entry.backoffMs = Math.min(entry.backoffMs * 2, this.#timings.maxBackoffMs);
    this.#options.log(
      `hosted process of ${spec.name} exited (${code === null ? `signal ${signal ?? '?'}` : `code ${code}`}); restarting in ${delay} ms`,
    );
    entry.restartTimer = setTimeout(() => {
      entry.restartTimer = undefined;
      if (entry.stopping) return;
      if (!this.#options.shouldRun(spec.name)) {
        this.#supervised.delete(spec.name);
        rmSync(this.#pidFile(spec.name), { force: true });
        this.#options.log(
          `hosted process of ${spec.name} not restarted: the extension is no longer enabled`,
        );
        return;
      }
      this.#launch(entry);
    }, delay);
  }

  async #stopGroup(pid: number, exited: Promise<void> | undefined): Promise<void> {
    signalGroup(pid, 'SIGTERM');
    const deadline = this.#options.clock.now() + this.#timings.stopGraceMs;
    while (signalGroup(pid, 0) && this.#options.clock.now() < deadline) await sleep(50);
    signalGroup(pid, 'SIGKILL');
    await exited;
    // Bounded: an unreaped zombie (no init reaping in some containers) would keep the group forever.
    for (let i = 0; i < 100 && signalGroup(pid, 0); i++) await sleep(20);
  }

  #pidFile(name: string): string {
    return join(this.#options.pidDir, `${name}.pid`);
  }
}

function sameSpec(a: HostedSpec, b: HostedSpec): boolean {
  return a.command === b.command && a.cwd === b.cwd;
}

function readPidFile(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Only a process whose environment carries our marker for `name` is ever signalled. */
function isHostedProcessOf(pid: number, name: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1')
      .split('\0')
      .includes(`${HOSTED_MARKER}=${name}`);
  } catch {
    return false;
  }
}
