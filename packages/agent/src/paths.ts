// The agent's Linux file layout (SPEC §1) under one root prefix: `/` on a real server, or
// AZCMAGENT_ROOT so tests and demos never touch the real system. No other module builds paths.
import { statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { AgentError } from './errors.js';

export interface AgentPaths {
  readonly root: string;
  readonly programDir: string;
  readonly dataDir: string;
  readonly localConfig: string;
  readonly localConfigBackup: string;
  readonly localConfigLock: string;
  /** Where `config clear` keeps a damaged localconfig.json it replaces. */
  readonly localConfigDamaged: string;
  /**
   * The journal of local configuration changes (who, when, old and new value): written by root
   * only, readable by the himds group, whose HIMDS reports it with the heartbeat.
   */
  readonly localChangeJournal: string;
  readonly logDir: string;
  readonly himdsLog: string;
  readonly agentLog: string;
  readonly certsDir: string;
  readonly tokensDir: string;
  /** The connected machine's identity and endpoint (agentconfig.json), written by connect. */
  readonly agentState: string;
  /**
   * The control plane's CA certificate, copied by connect. Root's services trust it, so it lives
   * where only root can change it, never in the himds-owned `certs/`.
   */
  readonly caCert: string;
  /** Where earlier versions kept the CA, in a folder himds can write: reported, never read. */
  readonly legacyCaCert: string;
  /** The machine's private key (PKCS#8 PEM), readable only by the himds account. */
  readonly machineKey: string;
  /**
   * Keys replaced by a credential renewal, kept only to open protected settings sealed to them
   * (`<key id>.key`); never used to sign in.
   */
  readonly retiredKeysDir: string;
  /**
   * Where each service writes what `azcmagent show` reports: root's services in this root-owned
   * folder, HIMDS in its own `himds/` inside it, so that account owns only what it writes.
   */
  readonly statusDir: string;
  readonly himdsStatusDir: string;
  serviceStatus(service: 'himds' | 'gc' | 'extension'): string;
  readonly guestConfigDir: string;
  readonly policyLogsDir: string;
  readonly extensionManagerLogsDir: string;
  /** The guest configuration service's own log (`arc_policy_logs/gc_agent.log`). */
  readonly guestConfigServiceLog: string;
  /**
   * Root-only (0700) folders of the guest configuration service: the last goal state and what it
   * remembers of each assignment, the verified-on-every-load packages, and reports not yet sent.
   */
  readonly guestConfigStateDir: string;
  readonly guestConfigPackagesDir: string;
  readonly guestConfigOutboxDir: string;
  /** The extension service's own log (`ext_mgr_logs/gc_ext.log`, as Arc names it). */
  readonly extensionServiceLog: string;
  readonly extensionLogsDir: string;
  readonly extensionsDir: string;
  /** What the extension host installed (`name → record`), written atomically. */
  readonly extensionStateFile: string;
  /** Held by whoever runs an extension operation: the extension service or `azcmagent extension`. */
  readonly extensionStateLock: string;
  /** `<Publisher>/*.pem`: the keys this server trusts to sign extension packages. */
  readonly trustedPublishersDir: string;
  /** `*.pem`: the keys root trusts to sign agent (azcmagent) packages; none means no upgrades. */
  readonly trustedAgentPackageKeysDir: string;
  /** Where extension packages are downloaded before they are verified. */
  readonly downloadsDir: string;
  /** `var/lib/waagent/<Publisher.Type-version>` for an installed extension. */
  extensionDir(publisher: string, type: string, version: string): string;
}

export function agentPaths(root: string): AgentPaths {
  const dataDir = join(root, 'var/opt/azcmagent');
  const logDir = join(dataDir, 'log');
  const guestConfigDir = join(root, 'var/lib/GuestConfig');
  const extensionsDir = join(root, 'var/lib/waagent');
  const localConfig = join(dataDir, 'localconfig.json');
  return Object.freeze({
    root,
    programDir: join(root, 'opt/azcmagent'),
    dataDir,
    localConfig,
    localConfigBackup: `${localConfig}.bak`,
    localConfigLock: `${localConfig}.lock`,
    localConfigDamaged: `${localConfig}.corrupt`,
    localChangeJournal: join(dataDir, 'localconfig-changes.jsonl'),
    logDir,
    himdsLog: join(logDir, 'himds.log'),
    agentLog: join(logDir, 'azcmagent.log'),
    certsDir: join(dataDir, 'certs'),
    tokensDir: join(dataDir, 'tokens'),
    agentState: join(dataDir, 'agentconfig.json'),
    caCert: join(dataDir, 'ca.crt'),
    legacyCaCert: join(dataDir, 'certs/ca.crt'),
    machineKey: join(dataDir, 'certs/machine.key'),
    retiredKeysDir: join(dataDir, 'certs/retired'),
    statusDir: join(dataDir, 'status'),
    himdsStatusDir: join(dataDir, 'status/himds'),
    serviceStatus(service: 'himds' | 'gc' | 'extension'): string {
      if (service === 'himds') return join(dataDir, 'status/himds/himds.json');
      return join(dataDir, 'status', `${service}.json`);
    },
    guestConfigDir,
    policyLogsDir: join(guestConfigDir, 'arc_policy_logs'),
    extensionManagerLogsDir: join(guestConfigDir, 'ext_mgr_logs'),
    guestConfigServiceLog: join(guestConfigDir, 'arc_policy_logs/gc_agent.log'),
    guestConfigStateDir: join(guestConfigDir, 'gc_state'),
    guestConfigPackagesDir: join(guestConfigDir, 'Configuration'),
    guestConfigOutboxDir: join(guestConfigDir, 'gc_reports'),
    extensionServiceLog: join(guestConfigDir, 'ext_mgr_logs/gc_ext.log'),
    extensionLogsDir: join(guestConfigDir, 'extension_logs'),
    extensionsDir,
    extensionStateFile: join(dataDir, 'extensions/state.json'),
    extensionStateLock: join(dataDir, 'extensions/state.json.lock'),
    trustedPublishersDir: join(dataDir, 'trusted-publishers'),
    trustedAgentPackageKeysDir: join(dataDir, 'trusted-agent-package-keys'),
    downloadsDir: join(guestConfigDir, 'downloads'),
    extensionDir(publisher: string, type: string, version: string): string {
      for (const part of [publisher, type, version]) {
        // Names come from validated Publisher/Type entries; this is the last line against traversal.
        if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(part)) {
          throw new AgentError('ERR_INVALID_VALUE', `"${part}" cannot be part of a folder name.`);
        }
      }
      return join(extensionsDir, `${publisher}.${type}-${version}`);
    },
  });
}

/** Reads AZCMAGENT_ROOT; it must name an existing directory by absolute path. */
export function resolveAgentPaths(env: NodeJS.ProcessEnv = process.env): AgentPaths {
  const root = env.AZCMAGENT_ROOT;
  if (root === undefined || root === '') return agentPaths('/');
  if (!isAbsolute(root)) {
    throw new AgentError(
      'ERR_INVALID_ROOT',
      `AZCMAGENT_ROOT must be an absolute path; got "${root}".`,
      { target: 'AZCMAGENT_ROOT' },
    );
  }
  let isDirectory = false;
  try {
    isDirectory = statSync(root).isDirectory();
  } catch {
    // Reported below with the same message as a file in the way.
  }
  if (!isDirectory) {
    throw new AgentError(
      'ERR_INVALID_ROOT',
      `AZCMAGENT_ROOT "${root}" is not an existing directory; create it or unset AZCMAGENT_ROOT.`,
      { target: 'AZCMAGENT_ROOT' },
    );
  }
  return agentPaths(root);
}
