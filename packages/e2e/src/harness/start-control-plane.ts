// Starts a real control plane for a test: the built `tether init` and `tether server` as child
// processes, in a temporary data directory, on an ephemeral port of 127.0.0.1.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminClient } from './admin-client.js';
import { TETHER_BIN } from './programs.js';
import type { ClientEnv } from './run-node-client.js';

export interface ControlPlane {
  /** `https://127.0.0.1:PORT`; the same across restart(). */
  url: string;
  /** The web portal's URL, when the server was started with `--portal-listen`. */
  readonly portalUrl?: string | undefined;
  tenantId: string;
  subscriptionId: string;
  /** The bootstrap service principal (Owner at `/`). */
  appId: string;
  password: string;
  /** Path of the CA certificate clients trust (NODE_EXTRA_CA_CERTS). */
  caCert: string;
  dataDir: string;
  /** HTTPS calls from the test itself, trusting `caCert`, with the bootstrap principal's token. */
  admin: AdminClient;
  /** The environment a client program needs to trust this control plane. */
  clientEnv(extra?: Record<string, string>): ClientEnv;
  /** The server's stderr (pino JSON lines) so far, for diagnosis. */
  logs(): string;
  /**
   * SIGTERM, wait for a clean exit, run `whileStopped` (e.g. to change the stored data behind
   * the server's back), start again on the same port over the same data.
   */
  restart(whileStopped?: () => void | Promise<void>): Promise<void>;
  /** SIGKILL, whatever it is doing, then start again on the same port over the same data. */
  crash(): Promise<void>;
  /** Stops the server and deletes the data directory. */
  stop(): Promise<void>;
}

export interface InitOutput {
  tenantId: string;
  subscriptionId: string;
  appId: string;
  password: string;
  caCert: string;
}

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

export interface ControlPlaneOptions {
  serverArgs?: readonly string[];
  /**
   * A command the server runs under, such as `['ip', 'netns', 'exec', NAME]` to listen inside
   * a network namespace; it must exec the server so that signals reach it.
   */
  launcher?: readonly string[];
  /** The port to listen on (an ephemeral one when not given), e.g. when `--public-url` names another. */
  port?: number;
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const root = await mkdtemp(join(tmpdir(), 'tether-e2e-'));
  const dataDir = join(root, 'data');
  try {
    const init = JSON.parse(
      await runTether(['init', '--data-dir', dataDir, '--json']),
    ) as InitOutput;
    const extra = options.serverArgs ?? [];
    const launcher = options.launcher ?? [];
    let server = await startServer(dataDir, `127.0.0.1:${options.port ?? 0}`, extra, launcher);
    const url = server.url;
    const port = options.port ?? new URL(url).port;
    const admin = new AdminClient(url, init.caCert, init.tenantId, init.appId, init.password);
    return {
      url,
      get portalUrl() {
        return server.portalUrl;
      },
      ...init,
      dataDir,
      admin,
      clientEnv: (more = {}) => ({ ...more, NODE_EXTRA_CA_CERTS: init.caCert }),
      logs: () => server.logs(),
      async restart(whileStopped) {
        await server.stop();
        await whileStopped?.();
        server = await startServer(dataDir, `127.0.0.1:${port}`, extra, launcher);
        admin.forgetToken();
      },
      async crash() {
        await server.kill();
        server = await startServer(dataDir, `127.0.0.1:${port}`, extra, launcher);
        admin.forgetToken();
      },
      async stop() {
        await server.stop();
        await rm(root, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}

export function runTether(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [TETHER_BIN, ...args],
      { timeout: START_TIMEOUT_MS },
      (error, stdout, stderr) => {
        if (error !== null)
          reject(new Error(`tether ${args[0] ?? ''} failed: ${stderr}`, { cause: error }));
        else resolve(stdout);
      },
    );
  });
}

export interface ServerProcess {
  url: string;
  portalUrl: string | undefined;
  logs(): string;
  /** SIGTERM, and resolves once the process has exited. */
  stop(): Promise<void>;
  /** SIGKILL: no clean-up at all, as a crash or a lost host. */
  kill(): Promise<void>;
}

/** Resolves once the server prints `tether listening on <url>`. */
export function startServer(
  dataDir: string,
  listen: string,
  extra: readonly string[],
  launcher: readonly string[],
): Promise<ServerProcess> {
  const command = [
    ...launcher,
    process.execPath,
    TETHER_BIN,
    'server',
    '--data-dir',
    dataDir,
    '--listen',
    listen,
    ...extra,
  ];
  const child = spawn(command[0] ?? process.execPath, command.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-1_000_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`tether server did not start within ${START_TIMEOUT_MS} ms; stderr:\n${stderr}`),
      );
    }, START_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(`tether server exited with ${String(code)} before listening; stderr:\n${stderr}`),
      );
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /^tether listening on (https:\/\/\S+)$/m.exec(stdout);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      const portalUrl = /^tether portal on (https:\/\/\S+)$/m.exec(stdout)?.[1];
      resolve({
        url: match[1],
        portalUrl,
        logs: () => stderr,
        stop: () => stopProcess(child, exited),
        kill: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      });
    });
  });
}

async function stopProcess(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
