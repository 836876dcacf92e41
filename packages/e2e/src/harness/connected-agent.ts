// A real agent for an end-to-end test: `azcmagent connect` under a temporary AZCMAGENT_ROOT
// (root is needed for connect), then its HIMDS, extension and guest configuration services as
// child processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AZCMAGENT_BIN,
  runAzcmagent,
  type RunResult,
} from '@tether/agent/test-support/azcmagent-process';
import type { ControlPlane } from './start-control-plane.js';

export interface ConnectedAgent {
  readonly root: string;
  readonly name: string;
  readonly resourceGroup: string;
  /** `/subscriptions/…/machines/<name>` as the agent was created. */
  readonly machinePath: string;
  run(args: readonly string[]): Promise<RunResult>;
  /** Starts HIMDS on an ephemeral port (heartbeats every 2 s unless `env` says); resolves once it listens. */
  startHimds(env?: Record<string, string>): Promise<number>;
  /** Starts the extension service (HIMDS must run first); resolves once it is ready. */
  startExtensionService(env?: Record<string, string>): Promise<void>;
  stopExtensionService(): Promise<void>;
  /** Starts the guest configuration service (HIMDS must run first); resolves once it is ready. */
  startGcService(env?: Record<string, string>): Promise<void>;
  /** Everything the services wrote to stderr so far. */
  logs(): string;
  /** Stops the services and deletes the agent's root. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;

export async function connectAgent(
  plane: ControlPlane,
  options: {
    resourceGroup: string;
    name: string;
    /** A command every agent program is started through, e.g. `ip netns exec <ns>`. */
    launcher?: readonly string[];
    /** Run before connect, e.g. `config set proxy.url`. */
    before?: (run: (args: readonly string[]) => Promise<RunResult>) => Promise<void>;
  },
): Promise<ConnectedAgent> {
  const root = mkdtempSync(join(tmpdir(), 'azcmagent-e2e-'));
  const { resourceGroup, name } = options;
  let logs = '';
  let himdsPort: number | undefined;
  const services = new Map<string, AgentService>();
  const launcher = options.launcher ?? [];
  const run = (args: readonly string[]): Promise<RunResult> =>
    runAzcmagent(root, args, { launcher });
  try {
    await options.before?.(run);
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }

  const connect = await run([
    'connect',
    '--endpoint',
    plane.url,
    '--ca-cert',
    plane.caCert,
    '-t',
    plane.tenantId,
    '-s',
    plane.subscriptionId,
    '-g',
    resourceGroup,
    '-n',
    name,
    '-l',
    'westeurope',
    '-i',
    plane.appId,
    '-p',
    plane.password,
  ]);
  if (connect.status !== 0) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`azcmagent connect failed: ${connect.stderr}`);
  }

  const start = async (
    service: 'himds' | 'extension' | 'gc',
    ready: RegExp,
    env: Record<string, string>,
  ): Promise<string> => {
    const started = await startAgentService(
      root,
      service,
      ready,
      env,
      (chunk) => {
        logs = (logs + chunk).slice(-2_000_000);
      },
      launcher,
    );
    services.set(service, started);
    return started.match;
  };
  const stopService = async (service: string): Promise<void> => {
    await services.get(service)?.stop();
    services.delete(service);
  };

  return {
    root,
    name,
    resourceGroup,
    machinePath: `/subscriptions/${plane.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.HybridCompute/machines/${name}`,
    run,
    async startHimds(env = {}) {
      const port = await start('himds', /himds listening on http:\/\/127\.0\.0\.1:(\d+)/, {
        AZCMAGENT_HIMDS_PORT: '0',
        AZCMAGENT_HEARTBEAT_SECONDS: '2',
        ...env,
      });
      himdsPort = Number(port);
      return himdsPort;
    },
    async startExtensionService(env = {}) {
      if (himdsPort === undefined) throw new Error('start HIMDS before the extension service');
      await start('extension', /extension service running for (\S+)/, {
        AZCMAGENT_HIMDS_PORT: String(himdsPort),
        ...env,
      });
    },
    stopExtensionService: () => stopService('extension'),
    async startGcService(env = {}) {
      if (himdsPort === undefined)
        throw new Error('start HIMDS before the guest configuration service');
      await start('gc', /guest configuration service running for (\S+)/, {
        AZCMAGENT_HIMDS_PORT: String(himdsPort),
        ...env,
      });
    },
    logs: () => logs,
    async stop() {
      for (const service of [...services.keys()]) await stopService(service);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface AgentService {
  /** The ready pattern's first group (e.g. the port HIMDS bound). */
  readonly match: string;
  stop(): Promise<void>;
}

/** `azcmagent service run <service>` under `root`; resolves once stdout matches `ready`. */
export function startAgentService(
  root: string,
  service: string,
  ready: RegExp,
  env: Record<string, string>,
  onLog: (chunk: string) => void,
  launcher: readonly string[] = [],
): Promise<AgentService> {
  const [command, ...prefix] = [...launcher, process.execPath];
  const args = [...prefix, AZCMAGENT_BIN, 'service', 'run', service];
  const child: ChildProcess = spawn(command ?? process.execPath, args, {
    env: { PATH: process.env.PATH, AZCMAGENT_ROOT: root, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-200_000);
    onLog(chunk);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  let isReady = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${service} was not ready within ${READY_TIMEOUT_MS} ms: ${stderr}`));
    }, READY_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!isReady)
        reject(new Error(`${service} exited with ${String(code)} before it was ready: ${stderr}`));
    });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = ready.exec(out);
      if (match === null) return;
      clearTimeout(timer);
      isReady = true;
      resolve({ match: match[1] ?? '', stop });
    });
  });
}
