// An exclusive lock between processes on one machine: a lock file created with O_EXCL that
// records its holder's pid, so a lock left by a crashed process is detected and broken safely.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock, type Clock } from '../clock.js';
import { AgentError } from '../errors.js';

export interface FileLockOptions {
  readonly clock?: Clock;
  /** How long to wait for a live holder before giving up. */
  readonly timeoutMs?: number;
  /** A lock file without a readable pid (its writer died mid-write) is stale after this age. */
  readonly staleAfterMs?: number;
  readonly pollMs?: number;
  readonly isProcessAlive?: (pid: number) => boolean;
  /** What the holder is doing, shown to whoever times out waiting (one line). */
  readonly purpose?: string;
}

/** Locks this process holds now, so a second holder in the same process is not taken for stale. */
const heldHere = new Set<string>();

interface Holder {
  readonly raw: string;
  readonly pid: number | undefined;
  readonly purpose: string | undefined;
  readonly mtimeMs: number;
}

export async function withFileLock<T>(
  lockPath: string,
  work: () => T | Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const release = await acquireFileLock(lockPath, options);
  try {
    return await work();
  } finally {
    release();
  }
}

/** Takes the lock and returns its release (safe to call more than once). */
export async function acquireFileLock(
  lockPath: string,
  options: FileLockOptions = {},
): Promise<() => void> {
  const clock = options.clock ?? systemClock;
  const alive = options.isProcessAlive ?? isProcessAlive;
  const staleAfterMs = options.staleAfterMs ?? 10_000;
  const purpose = options.purpose?.replace(/[\r\n]+/g, ' ') ?? '';
  const content = `${process.pid} ${randomBytes(8).toString('hex')} ${purpose}`.trimEnd() + '\n';
  const deadline = clock.now() + (options.timeoutMs ?? 15_000);
  const isStale = (holder: Holder): boolean =>
    holder.pid === undefined
      ? clock.now() - holder.mtimeMs > staleAfterMs
      : holder.pid === process.pid
        ? !heldHere.has(holder.raw)
        : !alive(holder.pid);

  for (;;) {
    if (tryCreate(lockPath, content)) {
      heldHere.add(content);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        heldHere.delete(content);
        // Only remove the lock if it is still ours.
        if (readHolder(lockPath)?.raw === content) rmSync(lockPath, { force: true });
      };
    }
    const holder = readHolder(lockPath);
    if (holder !== undefined && isStale(holder)) {
      breakStaleLock(lockPath, holder, isStale);
      continue;
    }
    if (clock.now() >= deadline) {
      const who = holder?.pid === undefined ? 'another process' : `process ${holder.pid}`;
      const doing =
        holder?.purpose === undefined
          ? 'Another azcmagent command or the extension service is using it'
          : `That process is ${holder.purpose}`;
      throw new AgentError(
        'ERR_CONFIG_LOCKED',
        `Timed out after ${Math.round((options.timeoutMs ?? 15_000) / 1000)} s waiting for the lock ${lockPath}, held by ${who}. ` +
          `${doing}; try again when it has finished.`,
        { target: lockPath },
      );
    }
    await sleep((options.pollMs ?? 10) + Math.floor(Math.random() * 10));
  }
}

function tryCreate(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new AgentError('ERR_CONFIG_WRITE_FAILED', `Cannot create the lock file ${path}.`, {
      cause: error,
      target: path,
    });
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Breaking is itself guarded by a second O_EXCL file, so two processes that both saw the
 * same stale holder cannot end up removing a fresh lock taken in between.
 */
function breakStaleLock(lockPath: string, stale: Holder, isStale: (h: Holder) => boolean): void {
  const guard = `${lockPath}.break`;
  if (!tryCreate(guard, `${process.pid}\n`)) {
    const breaker = readHolder(guard);
    if (breaker !== undefined && isStale(breaker)) rmSync(guard, { force: true });
    return;
  }
  try {
    if (readHolder(lockPath)?.raw === stale.raw) rmSync(lockPath, { force: true });
  } finally {
    rmSync(guard, { force: true });
  }
}

function readHolder(path: string): Holder | undefined {
  try {
    const raw = readFileSync(path, 'utf8');
    const mtimeMs = statSync(path).mtimeMs;
    const match = /^([1-9][0-9]*)(?:\s|$)/.exec(raw);
    const purpose = /^[0-9]+ [0-9a-f]+ (.+)$/.exec(raw.trimEnd())?.[1];
    return {
      raw,
      pid: match?.[1] === undefined ? undefined : Number(match[1]),
      purpose,
      mtimeMs,
    };
  } catch {
    return undefined;
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
