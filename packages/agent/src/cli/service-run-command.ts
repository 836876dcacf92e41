// `azcmagent service run himds|gc|extension`: a service in the foreground, as its systemd unit
// runs it. HIMDS serves 127.0.0.1 and heartbeats; the extension service (root) reconciles the
// control plane's extension goal state with the local policy; gc evaluates guest configuration.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { appendLogLine } from '../agent-log.js';
import { systemClock } from '../clock.js';
import { loadLocalConfig } from '../config/local-config-file.js';
import { defaultConfig } from '../config/property-table.js';
import { AgentError } from '../errors.js';
import type { CpuLimitReport } from '../extensions/host/cgroup.js';
import { createExtensionHost } from '../extensions/host/create-extension-host.js';
import { trustedOwnerUid } from '../extensions/host/trusted-owner.js';
import { HttpsExtensionApi } from '../extensions/service/extension-api.js';
import { AgentUpgrader } from '../agent-upgrade/agent-upgrader.js';
import { installDeb, readDebFields } from '../agent-upgrade/dpkg-installer.js';
import { readAgentPackageKeys } from '../agent-upgrade/trusted-agent-package-keys.js';
import { agentVersion, installedPackage } from '../version.js';
import { ExtensionService } from '../extensions/service/extension-service.js';
import type { GoalState } from '../extensions/service/goal-state.js';
import {
  HimdsNoticeClient,
  NoticeDrivenSource,
} from '../extensions/service/notice-driven-source.js';
import { MachineCredential } from '../extensions/service/machine-credential.js';
import { requireAgentState } from '../identity/agent-state.js';
import { expectedKeyOwner, HIMDS_ACCOUNT, lookupAccount } from '../identity/himds-account.js';
import { assertKeyFileSafe } from '../identity/key-file-check.js';
import { parseMachineKey } from '../identity/machine-key.js';
import { localConfigEgress } from '../network/egress.js';
import { handlerProxyEnv } from '../network/handler-proxy-env.js';
import { readTrustedCa } from '../identity/trusted-ca.js';
import { runGcService } from './gc-service-run.js';
import { ChallengeStore } from '../himds/challenge-store.js';
import { HeartbeatLoop } from '../himds/heartbeat-loop.js';
import { GoalStateNotices } from '../himds/goal-state-notices.js';
import { himdsPortSetting } from '../himds/himds-port.js';
import { createHimdsServer } from '../himds/himds-server.js';
import { MachineTokenSource } from '../himds/machine-token-source.js';
import { writeServiceStatus, type ServiceStatus } from '../himds/service-status.js';
import type { AgentPaths } from '../paths.js';
import { systemScheduler } from '../scheduler.js';
import type { CommandContext, CommandSpec } from './command-module.js';
import { runUntilSignalled, secondsSetting } from './service-lifecycle.js';

export const spec: CommandSpec = {
  usage: 'service run <himds|gc|extension>',
  summary: 'Run an agent service in the foreground (what its systemd unit runs).',
  details: [
    'himds: heartbeats to the control plane, renews the machine credential and serves instance',
    'metadata and managed-identity tokens on 127.0.0.1:40342 (AZCMAGENT_HIMDS_PORT overrides; run it as',
    'the himds user).',
    'extension: runs as root. Fetches the extension goal state as the machine when HIMDS relays a',
    'change notice from the agent channel (else long-polls it), checks every',
    'install, update and upgrade against the local allowlist/blocklist first (refusals are reported',
    'as failed operations), runs the signed handlers and reports their status. extensions.enabled',
    'false stops hosted extension processes and refuses operations until it is true again. Handlers',
    'reach HIMDS on AZCMAGENT_HIMDS_PORT (default 40342). Log:',
    'var/lib/GuestConfig/ext_mgr_logs/gc_ext.log.',
    'gc: runs as root. Fetches the guest configuration goal state as the machine on notice (else',
    'long-polls it), downloads each',
    "assignment's signed package (verified against the trusted publisher keys before anything in it is",
    'read), evaluates it every frequencyMinutes (15 by default; AZCMAGENT_GC_FREQUENCY_SECONDS overrides',
    'it) and at once when it is new, changed or an evaluation is requested, and reports compliance.',
    'Keeps the last goal state, packages and unsent reports under var/lib/GuestConfig and evaluates for',
    'up to 14 days without contact. guestconfiguration.enabled false or config.mode monitor: nothing is',
    'downloaded or evaluated and the control plane is told why. Rules never read or change the agent',
    'itself. Log: var/lib/GuestConfig/arc_policy_logs/gc_agent.log.',
    'Stop a service with SIGTERM.',
  ].join('\n'),
  flags: [],
  positionals: { min: 1, max: 1 },
  examples: [
    'azcmagent service run himds',
    'sudo azcmagent service run extension',
    'sudo azcmagent service run gc',
  ],
};

export async function run(context: CommandContext): Promise<number> {
  const service = context.positionals[0];
  const paths = context.paths();
  if (service === 'himds') return runHimds(context, paths);
  if (service === 'extension') return runExtensionService(context, paths);
  if (service === 'gc') return runGcService(context, paths);
  throw new AgentError(
    'ERR_USAGE',
    `Unknown service "${service ?? ''}"; expected himds, gc or extension.`,
    { target: service },
  );
}

async function runHimds(context: CommandContext, paths: AgentPaths): Promise<number> {
  if (
    paths.root === '/' &&
    process.geteuid?.() === 0 &&
    lookupAccount(HIMDS_ACCOUNT) !== undefined
  ) {
    throw new AgentError(
      'ERR_WRONG_ACCOUNT',
      "HIMDS must not run as root: it answers every local process, so it holds no more rights than it needs. Run it as the himds user: 'sudo -u himds azcmagent service run himds' (or 'systemctl start himds').",
    );
  }
  const state = requireAgentState(paths);
  const owner = expectedKeyOwner(paths, context.env);
  assertKeyFileSafe(paths.machineKey, owner);
  const key = parseMachineKey(readFileSync(paths.machineKey, 'utf8'));
  const ca = readTrustedCa(paths); // undefined: connected without --ca-cert, the system store applies
  const port = himdsPortSetting(context.env.AZCMAGENT_HIMDS_PORT);
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
  // Owned by root like every reader of localconfig.json in HIMDS, which runs as himds.
  const egress = localConfigEgress(paths);
  const tokens = new MachineTokenSource(
    {
      endpoint: state.endpoint,
      tenantId: state.tenantId,
      principalId: state.principalId,
      ca,
      egress,
    },
    key,
    systemClock,
  );
  const challenges = new ChallengeStore(paths.tokensDir, systemClock);
  const notices = new GoalStateNotices();
  const server = createHimdsServer({
    state: () => state,
    challenges,
    token: (resource) => tokens.token(resource),
    nowMs: () => systemClock.now(),
    notices,
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
    egress,
    tokens,
    clock: systemClock,
    random: Math.random,
    intervalOverrideSeconds,
    keyOwner: owner,
    log,
    notices,
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
      notices.release();
      challenges.clear();
      server.close();
      server.closeAllConnections();
      resolve(0);
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
}

async function runExtensionService(context: CommandContext, paths: AgentPaths): Promise<number> {
  if (paths.root === '/' && process.geteuid?.() !== 0) {
    throw new AgentError(
      'ERR_NOT_ROOT',
      `The extension service runs as root: it installs extensions and runs their handlers (this process runs as uid ${process.geteuid?.() ?? 'unknown'}). Run it as root: 'sudo azcmagent service run extension'.`,
    );
  }
  const state = requireAgentState(paths);
  assertKeyFileSafe(paths.machineKey, expectedKeyOwner(paths, context.env));
  // Root trusts only a CA that only root can change; handlers are handed the same file.
  const ca = readTrustedCa(paths);
  const himdsPort = himdsPortSetting(context.env.AZCMAGENT_HIMDS_PORT);
  const commandTimeoutMs = secondsSetting(
    context.env,
    'AZCMAGENT_EXTENSION_COMMAND_TIMEOUT_SECONDS',
  );
  const logFile = paths.extensionServiceLog;
  try {
    mkdirSync(paths.extensionManagerLogsDir, { recursive: true, mode: 0o755 });
  } catch {
    // appendLogLine skips a log it cannot write; stderr still has every line
  }
  const log = (line: string): void => {
    const now = systemClock.now();
    context.out.stderr(`${new Date(now).toISOString()} extension: ${line}\n`);
    appendLogLine(logFile, now, line);
  };
  const configOwnerUid = trustedOwnerUid(paths);
  const egress = localConfigEgress(paths, { trustedOwnerUid: configOwnerUid });
  const credential = new MachineCredential(
    {
      endpoint: state.endpoint,
      tenantId: state.tenantId,
      principalId: state.principalId,
      ca,
      egress,
    },
    paths.machineKey,
    systemClock,
  );
  const api = new HttpsExtensionApi(
    {
      endpoint: state.endpoint,
      ca,
      egress,
      subscriptionId: state.subscriptionId,
      resourceGroup: state.resourceGroup,
      resourceName: state.resourceName,
    },
    credential,
  );
  const host = createExtensionHost({
    paths,
    clock: systemClock,
    log,
    himdsPort,
    endpoint: state.endpoint,
    resourceId: state.resourceId,
    caFile: ca === undefined ? undefined : paths.caCert,
    cpuLimitPercent: () => {
      const loaded = loadLocalConfig(paths, { trustedOwnerUid: configOwnerUid });
      const settings = loaded.state === 'ok' ? loaded.settings : defaultConfig();
      return settings['extensions.agent.cpulimit'];
    },
    proxyEnv: () => {
      const loaded = loadLocalConfig(paths, { trustedOwnerUid: configOwnerUid });
      return loaded.state === 'ok' ? handlerProxyEnv(loaded.settings, state.endpoint) : undefined;
    },
    ...(commandTimeoutMs === undefined ? {} : { commandTimeoutMs }),
  });
  const packaged = installedPackage();
  const upgrader = new AgentUpgrader({
    dataDir: paths.dataDir,
    api,
    clock: systemClock,
    scheduler: systemScheduler,
    log,
    loadConfig: () => loadLocalConfig(paths, { trustedOwnerUid: configOwnerUid }),
    runningVersion: agentVersion(),
    notPackaged:
      packaged !== undefined && paths.root === '/'
        ? undefined
        : `${process.argv[1] ?? 'an unknown program'}${paths.root === '/' ? '' : ` with AZCMAGENT_ROOT=${paths.root}`}`,
    trustedKeys: () => readAgentPackageKeys(paths, { ownerUid: configOwnerUid, log }),
    readFields: readDebFields,
    install: installDeb,
  });
  const statusFile = paths.serviceStatus('extension');
  const goalStates = new NoticeDrivenSource<GoalState>({
    api,
    notices: new HimdsNoticeClient(himdsPort, expectedKeyOwner(paths, context.env).uid),
    service: 'extensions',
    log,
  });
  const service = new ExtensionService({
    upgrader,
    paths,
    host,
    api,
    goalStates,
    credential,
    clock: systemClock,
    random: Math.random,
    log,
    configOwnerUid,
    writeStatus: (status, lastError) => {
      // Beyond what `show` reads: whether extensions.agent.cpulimit is in force, and why not.
      const record: ServiceStatus & { readonly cpuLimit: CpuLimitReport } = {
        service: 'extension',
        status,
        pid: process.pid,
        updatedAt: new Date(systemClock.now()).toISOString(),
        lastError,
        goalStateChanges: goalStates.changes,
        cpuLimit: host.cpuLimit(),
      };
      writeServiceStatus(statusFile, record);
    },
    onReady: () => {
      // Logged before the line on stdout, which is what callers wait for.
      log(`running for ${state.resourceId}`);
      context.out.stdout(`extension service running for ${state.resourceId}\n`);
    },
  });
  service.start();
  return runUntilSignalled(service, log);
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
