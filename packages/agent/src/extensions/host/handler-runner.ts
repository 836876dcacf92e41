// Runs one handler command as the service's own user (root): `/bin/sh -c <command>` in the
// handler folder, in its own process group and the extension's cgroup, output appended to the
// extension's CommandExecution.log. A command that outlives its timeout is killed, group and all.
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from '../../clock.js';
import type { CpuLimiter } from './cgroup.js';
import { signalGroup } from './process-group.js';

export interface HandlerCommand {
  /** What the log and errors call it: install, enable, … */
  readonly name: string;
  readonly command: string;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** The cgroup: `<Publisher.Type>`. */
  readonly group: string;
  readonly logFile: string;
  readonly timeoutMs: number;
}

export type CommandResult =
  | { readonly kind: 'exited'; readonly code: number; readonly tail: string }
  | { readonly kind: 'killed'; readonly signal: string; readonly tail: string }
  | { readonly kind: 'timeout'; readonly tail: string }
  | { readonly kind: 'not-started'; readonly message: string };

const TAIL_BYTES = 2048;

export async function runHandlerCommand(
  command: HandlerCommand,
  limiter: CpuLimiter,
  clock: Clock,
  /** Called once the command's process exists (not called if it could not be started). */
  onStarted?: () => void,
): Promise<CommandResult> {
  mkdirSync(dirname(command.logFile), { recursive: true, mode: 0o755 });
  const fd = openSync(command.logFile, 'a', 0o640);
  let start: number;
  try {
    writeSync(
      fd,
      `\n[${new Date(clock.now()).toISOString()}] ${command.name}: ${command.command} (in ${command.cwd})\n`,
    );
    start = fstatSync(fd).size;
  } catch (error) {
    closeSync(fd);
    return { kind: 'not-started', message: (error as Error).message };
  }
  const result = await spawnAndWait(command, limiter, fd, onStarted);
  const tail = readTail(command.logFile, start);
  const summary =
    result.kind === 'exited'
      ? `exit code ${result.code}`
      : result.kind === 'timeout'
        ? `killed after ${command.timeoutMs} ms (timeout)`
        : result.kind === 'killed'
          ? `killed by ${result.signal}`
          : `not started: ${result.message}`;
  try {
    writeSync(fd, `[${new Date(clock.now()).toISOString()}] ${command.name}: ${summary}\n`);
  } finally {
    closeSync(fd);
  }
  return result.kind === 'not-started' ? result : { ...result, tail };
}

type RawResult =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'killed'; readonly signal: string }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'not-started'; readonly message: string };

function spawnAndWait(
  command: HandlerCommand,
  limiter: CpuLimiter,
  fd: number,
  onStarted: (() => void) | undefined,
): Promise<RawResult> {
  return new Promise((resolve) => {
    const { file, args } = limiter.command(command.group, command.command);
    const child = spawn(file, args, {
      cwd: command.cwd,
      env: command.env,
      detached: true, // its own process group, killed as one
      stdio: ['ignore', fd, fd],
    });
    if (onStarted !== undefined) child.once('spawn', onStarted);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    }, command.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ kind: 'not-started', message: error.message });
    });
    // 'exit', not 'close': a daemon the handler leaves behind may hold the log open for ever.
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) resolve({ kind: 'timeout' });
      else if (code !== null) resolve({ kind: 'exited', code });
      else resolve({ kind: 'killed', signal: signal ?? 'unknown signal' });
    });
  });
}

/** The last bytes the command wrote, for error messages. */
function readTail(file: string, start: number): string {
  const fd = openSync(file, 'r');
  try {
    const end = fstatSync(fd).size;
    const from = Math.max(start, end - TAIL_BYTES);
    const buffer = Buffer.alloc(end - from);
    const read = readSync(fd, buffer, 0, buffer.length, from);
    return buffer.subarray(0, read).toString('utf8').trim();
  } catch {
    return '';
  } finally {
    closeSync(fd);
  }
}
