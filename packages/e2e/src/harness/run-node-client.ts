// Runs a client program (packages/e2e/src/clients/*.ts, compiled) as its own Node process, the
// way a user's program runs: NODE_EXTRA_CA_CERTS is read by Node only at start-up, so an
// Azure SDK client can trust Tether's CA only in a fresh process. Returns its JSON stdout.
import { execFile } from 'node:child_process';
import { isAbsolute, join } from 'node:path';
import { CLIENTS_DIR } from './programs.js';

export type ClientEnv = { NODE_EXTRA_CA_CERTS: string } & Record<string, string>;

const TIMEOUT_MS = 60_000;

/**
 * `script` is a client's name (`identity-credential` → dist/clients/identity-credential.js) or
 * an absolute path. The child sees only PATH, HOME and `env`; a non-zero exit or output that is
 * not JSON is an error that carries the child's stderr.
 */
export function runNodeClient<T = unknown>(
  script: string,
  args: readonly string[],
  env: ClientEnv,
): Promise<T> {
  const file = isAbsolute(script)
    ? script
    : join(CLIENTS_DIR, script.endsWith('.js') ? script : `${script}.js`);
  const childEnv: Record<string, string> = { ...env };
  for (const name of ['PATH', 'HOME', 'TMPDIR']) {
    const value = process.env[name];
    if (value !== undefined && childEnv[name] === undefined) childEnv[name] = value;
  }
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [file, ...args],
      { env: childEnv, timeout: TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null) {
          reject(
            new Error(
              `client ${script} failed (${error.message.split('\n')[0] ?? ''}); stderr:\n${stderr}`,
              { cause: error },
            ),
          );
          return;
        }
        try {
          resolve(JSON.parse(stdout) as T);
        } catch (cause) {
          reject(
            new Error(
              `client ${script} printed no JSON: ${JSON.stringify(stdout.slice(0, 500))}; stderr:\n${stderr}`,
              { cause },
            ),
          );
        }
      },
    );
  });
}
