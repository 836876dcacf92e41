// The built `tether` CLI run as a user runs it, with a profile of its own in `home`, trusting
// the test control plane's CA, and signed in as its bootstrap principal by login().
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { TETHER_BIN } from './programs.js';
import type { ControlPlane } from './start-control-plane.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TetherCli {
  run(args: readonly string[]): Promise<CliRun>;
  /** `tether login --service-principal` with the bootstrap principal's secret. */
  login(): Promise<CliRun>;
}

export function tetherCli(plane: ControlPlane, home: string): TetherCli {
  const run = (args: readonly string[]): Promise<CliRun> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [TETHER_BIN, ...args],
        {
          env: {
            PATH: process.env.PATH,
            HOME: home,
            TETHER_CONFIG_DIR: join(home, 'profile'),
            TETHER_CA_CERT: plane.caCert,
          },
          timeout: 60_000,
        },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          resolve({ code, stdout, stderr });
        },
      );
    });
  return {
    run,
    login: () =>
      run([
        'login',
        '--service-principal',
        '-u',
        plane.appId,
        '-p',
        plane.password,
        '--tenant',
        plane.tenantId,
        '--endpoint',
        plane.url,
      ]),
  };
}
