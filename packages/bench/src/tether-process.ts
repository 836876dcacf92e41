// Running the real `tether` in benchmarks: its bin, one-shot commands, and waiting on servers.
import { execFile, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `tether` a user runs: bin/ beside the dist/ a module of the package resolves into. */
export const TETHER_BIN = fileURLToPath(
  new URL('../../bin/tether.cjs', import.meta.resolve('@tether/control-plane/server/data-dir')),
);

export function runTether(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [TETHER_BIN, ...args], (error, stdout, stderr) => {
      if (error !== null)
        reject(new Error(`tether ${args[0] ?? ''} failed: ${stderr}`, { cause: error }));
      else resolve(stdout);
    });
  });
}

export function listening(
  child: ChildProcess,
  pattern: RegExp,
  timeoutMs = 30_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`server did not start within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${String(code)} before listening`));
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = pattern.exec(out);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      resolve(match[1]);
    });
  });
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
