// Runs the real compiled `azcmagent` (bin/azcmagent.cjs) as a child process under a given
// AZCMAGENT_ROOT, optionally as another OS user, and collects its output.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const AZCMAGENT_BIN = fileURLToPath(new URL('../../bin/azcmagent.cjs', import.meta.url));

export interface RunResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly uid?: number;
  readonly gid?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** A command the program is started through, e.g. `ip netns exec <ns>`. */
  readonly launcher?: readonly string[];
}

export function runAzcmagent(
  root: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const [command, ...prefix] = [...(options.launcher ?? []), process.execPath];
    const child = spawn(command ?? process.execPath, [...prefix, AZCMAGENT_BIN, ...args], {
      // A minimal environment: nothing from the test runner leaks into the program.
      env: { PATH: process.env.PATH, AZCMAGENT_ROOT: root, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ status: code ?? (signal === null ? -1 : 128), stdout, stderr });
    });
  });
}

/** Splits a command line the way a shell would for the seed's commands (double quotes only). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const match of line.matchAll(/"([^"]*)"|(\S+)/g)) words.push(match[1] ?? match[2] ?? '');
  return words;
}

/** The arguments after `[sudo] azcmagent` in a command line copied from the documentation. */
export function azcmagentArgs(line: string): string[] {
  const words = shellWords(line);
  const start = words.indexOf('azcmagent');
  if (start < 0) throw new Error(`not an azcmagent command: ${line}`);
  return words.slice(start + 1);
}

export const RUNNING_AS_ROOT = process.geteuid?.() === 0;
/** For suites that change settings: `config set/clear` refuse everyone but root, by design. */
export const ROOT_ONLY = RUNNING_AS_ROOT
  ? false
  : 'needs root: config set/clear refuse other users';
