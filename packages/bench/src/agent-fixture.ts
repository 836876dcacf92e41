// A real connected agent for the agent benchmarks: `tether init` and `tether server` as child
// processes, `azcmagent connect` with the built bin under a temporary AZCMAGENT_ROOT, services.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TETHER_BIN = fileURLToPath(
  new URL('../../bin/tether.cjs', import.meta.resolve('@tether/control-plane/server/data-dir')),
);
export const AZCMAGENT_BIN = fileURLToPath(
  new URL('../bin/azcmagent.cjs', import.meta.resolve('@tether/agent/paths')),
);
const START_TIMEOUT_MS = 30_000;
const RESOURCE_GROUP = 'bench';

export interface RunningService {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The last few KiB the service wrote to stdout and stderr, for error messages. */
  output(): string;
}

export interface AgentFixture {
  /** The control plane's URL: also the audience HIMDS fetches tokens for. */
  readonly endpoint: string;
  /** AZCMAGENT_ROOT of the connected agent. */
  readonly agentRoot: string;
  /** A scratch directory removed with everything else. */
  readonly scratch: string;
  /** The control plane's installation: its bootstrap Owner and CA certificate file. */
  readonly install: Installation;
  /** Runs a one-shot `azcmagent` command under the fixture's AZCMAGENT_ROOT; resolves stdout. */
  azcmagent(args: readonly string[]): Promise<string>;
  /** Starts `azcmagent service run <name>` under the fixture's AZCMAGENT_ROOT. */
  startService(name: 'himds' | 'gc' | 'extension', env?: Record<string, string>): RunningService;
  /** Starts any node program as a child that stop() also ends. */
  spawnNode(args: readonly string[], stdin?: string): ChildProcess;
  /** Ends every child (SIGTERM, then SIGKILL) and removes every temporary directory. */
  stop(): Promise<void>;
}

export interface Installation {
  tenantId: string;
  subscriptionId: string;
  appId: string;
  password: string;
  caCert: string;
}

export async function startAgentFixture(): Promise<AgentFixture> {
  const scratch = await mkdtemp(join(tmpdir(), 'tether-agent-bench-'));
  const children: ChildProcess[] = [];
  const track = (child: ChildProcess): ChildProcess => {
    children.push(child);
    return child;
  };
  const stop = async (): Promise<void> => {
    await Promise.all(children.map(endChild));
    await rm(scratch, { recursive: true, force: true });
  };
  try {
    const dataDir = join(scratch, 'tether');
    const agentRoot = join(scratch, 'agent');
    await mkdir(agentRoot);
    const install = JSON.parse(
      await execNode([TETHER_BIN, 'init', '--data-dir', dataDir, '--json']),
    ) as Installation;
    const server = track(
      spawn(
        process.execPath,
        [TETHER_BIN, 'server', '--data-dir', dataDir, '--listen', '127.0.0.1:0'],
        { stdio: ['ignore', 'pipe', 'ignore'] },
      ),
    );
    const endpoint = await waitForLine(server, /^tether listening on (https:\/\/\S+)$/m);
    const ca = await readFile(install.caCert, 'utf8');
    const token = await adminToken(endpoint, ca, install);
    const group = `/subscriptions/${install.subscriptionId}/resourcegroups/${RESOURCE_GROUP}`;
    const put = await httpsJson(endpoint, ca, 'PUT', `${group}?api-version=2021-04-01`, token, {
      location: 'westeurope',
    });
    if (put.status !== 201) throw new Error(`resource group: ${put.status} ${put.text}`);
    // The bootstrap principal (Owner at /) onboards: the benchmarks measure the agent, not RBAC.
    await execNode(
      [
        AZCMAGENT_BIN,
        'connect',
        ...['--endpoint', endpoint, '--ca-cert', install.caCert, '-t', install.tenantId],
        ...['-s', install.subscriptionId, '-g', RESOURCE_GROUP, '-n', 'bench-machine'],
        ...['-l', 'westeurope', '-i', install.appId, '-p', install.password],
      ],
      { PATH: process.env.PATH ?? '', AZCMAGENT_ROOT: agentRoot },
    );
    const agentEnv = { PATH: process.env.PATH ?? '', AZCMAGENT_ROOT: agentRoot };
    return {
      endpoint,
      agentRoot,
      scratch,
      install,
      azcmagent: (args) => execNode([AZCMAGENT_BIN, ...args], agentEnv),
      startService(name, env = {}) {
        const child = track(
          spawn(
            process.execPath,
            [
              ...(process.env.BENCH_AGENT_NODE_FLAGS ?? '').split(' ').filter(Boolean),
              AZCMAGENT_BIN,
              'service',
              'run',
              name,
            ],
            {
              env: { ...agentEnv, ...env },
              stdio: ['ignore', 'pipe', 'pipe'],
            },
          ),
        );
        // Always drained, so that a chatty service never blocks on a full pipe.
        let tail = '';
        const keep = (chunk: string): void => {
          tail = (tail + chunk).slice(-8192);
        };
        child.stdout?.setEncoding('utf8').on('data', keep);
        child.stderr?.setEncoding('utf8').on('data', keep);
        return { child, pid: child.pid ?? 0, output: () => tail };
      },
      spawnNode(args, stdin) {
        const child = track(spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] }));
        child.stdin?.end(stdin ?? '');
        return child;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Polls until probe gives a value; a benchmark's set-up, so a generous deadline. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = START_TIMEOUT_MS,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  while (performance.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}: ${String(last)}`);
}

/** Resolves with the first capture group of pattern in the child's stdout. */
export function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no ${String(pattern)} in time`)), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited ${String(code)} before printing ${String(pattern)}`));
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

async function endChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function execNode(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      { timeout: START_TIMEOUT_MS, ...(env === undefined ? {} : { env }) },
      (error, stdout, stderr) => {
        // Only stderr: the command line holds the principal's secret.
        if (error !== null)
          reject(new Error(`${args[1] ?? ''} failed (${error.code ?? ''}): ${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

async function adminToken(endpoint: string, ca: string, install: Installation): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: install.appId,
    client_secret: install.password,
    scope: `${endpoint}/.default`,
  }).toString();
  const answer = await httpsJson(
    endpoint,
    ca,
    'POST',
    `/${install.tenantId}/oauth2/v2.0/token`,
    undefined,
    form,
  );
  const token = (JSON.parse(answer.text) as { access_token?: string }).access_token;
  if (answer.status !== 200 || token === undefined) throw new Error(`token: ${answer.text}`);
  return token;
}

function httpsJson(
  endpoint: string,
  ca: string,
  method: string,
  path: string,
  token: string | undefined,
  body: unknown,
): Promise<{ status: number; text: string }> {
  const form = typeof body === 'string';
  const payload = form ? body : JSON.stringify(body);
  const headers: Record<string, string> = {
    'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
  };
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, endpoint), { method, headers, ca }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}
