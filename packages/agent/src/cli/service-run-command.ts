// `azcmagent service run himds|gc|extension`: a service in the foreground, as its systemd unit
// runs it. HIMDS serves 127.0.0.1 and heartbeats; gc and extension only report themselves so far.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { appendLogLine } from '../agent-log.js';
import { systemClock } from '../clock.js';
import { AgentError } from '../errors.js';
import { requireAgentState } from '../identity/agent-state.js';
import { expectedKeyOwner, HIMDS_ACCOUNT, lookupAccount } from '../identity/himds-account.js';
import { assertKeyFileSafe } from '../identity/key-file-check.js';
import { parseMachineKey } from '../identity/machine-key.js';
import { ChallengeStore } from '../himds/challenge-store.js';
import { HeartbeatLoop } from '../himds/heartbeat-loop.js';
import { createHimdsServer } from '../himds/himds-server.js';
import { MachineTokenSource } from '../himds/machine-token-source.js';
import { writeServiceStatus } from '../himds/service-status.js';
import type { AgentPaths } from '../paths.js';
import type { CommandContext, CommandSpec } from './command-module.js';

export const spec: CommandSpec = {
  usage: 'service run <himds|gc|extension>',
  summary: 'Run an agent service in the foreground (what its systemd unit runs).',
  details:
    'himds: heartbeats to the control plane, renews the machine credential and serves instance\nmetadata and managed-identity tokens on 127.0.0.1:40342 (AZCMAGENT_HIMDS_PORT overrides; run it as\nthe himds user). gc and extension: for now they only report themselves as running; policy\nevaluation and extension management come in later releases. Stop a service with SIGTERM.',
  flags: [],
  positionals: { min: 1, max: 1 },
  examples: ['azcmagent service run himds'],
};

const DEFAULT_PORT = 40342;

export async function run(context: CommandContext): Promise<number> {
  const service = context.positionals[0];
  const paths = context.paths();
  if (service === 'himds') return runHimds(context, paths);
  if (service === 'gc' || service === 'extension') return runPlaceholder(service, paths);
  throw new AgentError(
    'ERR_USAGE',
    `Unknown service "${service ?? ''}"; expected himds, gc or extension.`,
    { target: service },
  );
}

function parsePort(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_PORT;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new AgentError(
      'ERR_INVALID_VALUE',
      `AZCMAGENT_HIMDS_PORT "${text}" is not a port number (0-65535).`,
      { target: 'AZCMAGENT_HIMDS_PORT' },
    );
  }
  return port;
}

async function runHimds(context: CommandContext, paths: AgentPaths): Promise<number> {
  if (
    paths.root === '/' &&
    process.geteuid?.() === 0 &&
    lookupAccount(HIMDS_ACCOUNT) !== undefined
  ) {
    throw new AgentError(
      'ERR_WRONG_ACCOUNT',
      "HIMDS must not run as root (S6). Run it as the himds user: 'sudo -u himds azcmagent service run himds' (or 'systemctl start himds').",
    );
  }
  const state = requireAgentState(paths);
  const owner = expectedKeyOwner();
  assertKeyFileSafe(paths.machineKey, owner);
  const key = parseMachineKey(readFileSync(paths.machineKey, 'utf8'));
  let ca: string | undefined;
  try {
    ca = readFileSync(paths.caCert, 'utf8');
  } catch {
    ca = undefined; // connected without --ca-cert: the system trust store applies
  }
  const port = parsePort(context.env.AZCMAGENT_HIMDS_PORT);
  const override = context.env.AZCMAGENT_HEARTBEAT_SECONDS;
  const intervalOverrideSeconds =
    override === undefined || override === '' ? undefined : Number(override);
  if (intervalOverrideSeconds !== undefined && !(intervalOverrideSeconds > 0)) {
    throw new AgentError(
      'ERR_INVALID_VALUE',
      `AZCMAGENT_HEARTBEAT_SECONDS "${override ?? ''}" must be a positive number.`,
    );
  }
  const log = (line: string): void => {
    const now = systemClock.now();
    context.out.stderr(`${new Date(now).toISOString()} himds: ${line}\n`);
    appendLogLine(paths.himdsLog, now, line);
  };
  removeStaleChallenges(paths.tokensDir);
  const tokens = new MachineTokenSource(
    { endpoint: state.endpoint, tenantId: state.tenantId, principalId: state.principalId, ca },
    key,
    systemClock,
  );
  const challenges = new ChallengeStore(paths.tokensDir, systemClock);
  const server = createHimdsServer({
    state: () => state,
    challenges,
    token: (resource) => tokens.token(resource),
    nowMs: () => systemClock.now(),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new AgentError(
          'ERR_INTERNAL',
          `HIMDS cannot listen on 127.0.0.1:${port}: ${error.message}.`,
          { cause: error },
        ),
      ),
    );
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  const sweeper = setInterval(() => challenges.sweep(), 10_000);
  const loop = new HeartbeatLoop({
    paths,
    state,
    ca,
    tokens,
    clock: systemClock,
    random: Math.random,
    intervalOverrideSeconds,
    keyOwner: owner,
    log,
  });
  loop.start();
  // Logged before the line on stdout, which is what callers wait for.
  log(`listening on http://127.0.0.1:${boundPort} for ${state.resourceId}`);
  context.out.stdout(`himds listening on http://127.0.0.1:${boundPort}\n`);
  return new Promise((resolve) => {
    const shutdown = (): void => {
      log('stopping');
      clearInterval(sweeper);
      loop.markStopped();
      challenges.clear();
      server.close();
      server.closeAllConnections();
      resolve(0);
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
}

function removeStaleChallenges(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) if (name.endsWith('.key')) rmSync(join(dir, name), { force: true });
}

function runPlaceholder(service: 'gc' | 'extension', paths: AgentPaths): Promise<number> {
  const file = paths.serviceStatus(service);
  const write = (status: 'running' | 'stopped'): void =>
    writeServiceStatus(file, {
      service,
      status,
      pid: process.pid,
      updatedAt: new Date(systemClock.now()).toISOString(),
    });
  write('running');
  const timer = setInterval(() => write('running'), 60_000);
  return new Promise((resolve) => {
    const shutdown = (): void => {
      clearInterval(timer);
      write('stopped');
      resolve(0);
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
}
