// Runs one command line with /bin/sh -c in its own process group, keeps the tail of its output
// (and the whole of it in files beside it), and kills the group when it runs too long.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { OutputTail } from './output-tail.js';

export interface ShellCommandResult {
  /** The exit code; for a signal, 128 + its number as a shell reports it. */
  readonly exitCode: number;
  readonly timedOut: boolean;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export const OUTPUT_TAIL_BYTES = 4096;

export function runShellCommand(
  command: string,
  options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<ShellCommandResult> {
  return new Promise((resolve) => {
    const stdout = new OutputTail(OUTPUT_TAIL_BYTES);
    const stderr = new OutputTail(OUTPUT_TAIL_BYTES);
    const stdoutFile = createWriteStream(join(options.cwd, 'stdout'), { mode: 0o600 });
    const stderrFile = createWriteStream(join(options.cwd, 'stderr'), { mode: 0o600 });
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
      stdoutFile.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      stderrFile.write(chunk);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, options.timeoutMs);
    let done = false;
    const finish = (exitCode: number, signal: NodeJS.Signals | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      stdoutFile.end();
      stderrFile.end();
      resolve({ exitCode, timedOut, signal, stdout: stdout.text(), stderr: stderr.text() });
    };
    child.on('error', (error) => {
      stderr.push(Buffer.from(`cannot start /bin/sh: ${error.message}\n`));
      finish(127, null);
    });
    const exitCodeOf = (code: number | null, signal: NodeJS.Signals | null): number =>
      code ?? 128 + (signal === null ? 0 : constants.signals[signal]);
    child.on('close', (code, signal) => {
      finish(exitCodeOf(code, signal), signal);
    });
    // A background process the command left behind may hold its output open: stop waiting
    // for the output a moment after the command itself has ended.
    child.on('exit', (code, signal) => {
      setTimeout(() => finish(exitCodeOf(code, signal), signal), 1000).unref();
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
