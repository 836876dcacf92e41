// `azcmagent extension remove --name X | --all`: root. Runs disable → uninstall and deletes the
// handler folder from local state alone, connected or not; the extension service reports the
// removal to the control plane later. Only `extensions.enabled false` stops it (S11).
import { existsSync } from 'node:fs';
import { appendLogLine } from '../agent-log.js';
import { systemClock } from '../clock.js';
import { loadLocalConfig, type LoadedConfig } from '../config/local-config-file.js';
import { defaultConfig } from '../config/property-table.js';
import { AgentError, type AgentErrorCode } from '../errors.js';
import { decideExtensionOperation } from '../extension-policy.js';
import type { InstalledExtension } from '../extensions/extension-host.js';
import { createExtensionHost } from '../extensions/host/create-extension-host.js';
import { readExtensionState } from '../extensions/host/extension-state.js';
import { readAgentState } from '../identity/agent-state.js';
import { readTrustedCa } from '../identity/trusted-ca.js';
import { handlerProxyEnv } from '../network/handler-proxy-env.js';
import type { AgentPaths } from '../paths.js';
import type { CommandContext, CommandSpec } from './command-module.js';
import { requireRoot } from './require-root.js';

export const spec: CommandSpec = {
  usage: 'extension remove',
  summary: 'Remove an installed extension (disable, uninstall, delete its folder), or all of them.',
  details:
    'Works without a control plane. The extension is kept in the local list as "removed locally"\nuntil the extension service has told the control plane, which then does not reinstall it.\nRefused while extensions.enabled is false: the extension manager does not run then.',
  flags: [
    {
      long: 'name',
      type: 'string',
      valueName: 'name',
      description: 'The extension to remove (as in extension list)',
    },
    { long: 'all', type: 'boolean', description: 'Remove every installed extension' },
  ],
  positionals: { min: 0, max: 0 },
  examples: [
    'sudo azcmagent extension remove --name CustomScript',
    'sudo azcmagent extension remove --all',
  ],
};

const DEFAULT_HIMDS_PORT = 40342;

export async function run(context: CommandContext): Promise<number> {
  const name = context.flags.name;
  const all = context.flags.all === true;
  requireRoot([
    'extension',
    'remove',
    ...(all ? ['--all'] : []),
    ...(typeof name === 'string' ? ['--name', name] : []),
  ]);
  if (all === (typeof name === 'string')) {
    throw new AgentError(
      'ERR_USAGE',
      "Give either --name <extension> or --all. Run 'azcmagent extension list' to see the names.",
    );
  }
  const paths = context.paths();
  const installed = Object.values(readExtensionState(paths)).filter(
    (record) => record.removedLocallyAt === undefined,
  );
  const targets = all ? installed : installed.filter((record) => record.name === name);
  if (!all && targets.length === 0) {
    const names = installed.map((record) => record.name);
    throw new AgentError(
      'ERR_EXTENSION_NOT_INSTALLED',
      `No extension named "${String(name)}" is installed on this server (${names.length === 0 ? 'none is' : `installed: ${names.join(', ')}`}). Nothing was changed.`,
      { target: String(name) },
    );
  }
  const loaded = loadLocalConfig(paths);
  for (const record of targets) {
    const decision = decideExtensionOperation(loaded, 'remove', record);
    if (!decision.allowed)
      throw new AgentError(decision.code, `${decision.reason} Nothing was changed.`);
  }
  if (targets.length === 0) {
    if (context.json) context.printJson({ Removed: [] });
    else context.out.stdout('No extensions are installed; nothing to remove.\n');
    return 0;
  }
  const host = createExtensionHost({
    paths,
    clock: systemClock,
    log: logger(context, paths),
    himdsPort: himdsPort(context.env),
    ...connection(paths),
    cpuLimitPercent: () => cpuLimit(loaded),
    proxyEnv: () =>
      loaded.state === 'ok'
        ? handlerProxyEnv(loaded.settings, connection(paths).endpoint)
        : undefined,
  });
  const removed: string[] = [];
  let failure: { code: string; message: string } | undefined;
  for (const record of targets) {
    context.verbose(`Removing ${describe(record)}`);
    const outcome = await host.remove(record.name, { local: true });
    if (outcome.result === 'Succeeded') {
      removed.push(record.name);
      if (!context.json) context.out.stdout(`Extension ${describe(record)} removed.\n`);
    } else {
      failure ??= outcome.error ?? { code: 'ERR_INTERNAL', message: outcome.status.message };
      context.out.stderr(
        `Extension ${describe(record)} was not removed: ${outcome.error?.message ?? outcome.status.message}\n`,
      );
    }
  }
  if (context.json) context.printJson({ Removed: removed });
  if (failure !== undefined) throw new AgentError(failure.code as AgentErrorCode, failure.message);
  return 0;
}

function describe(record: InstalledExtension): string {
  return `${record.name} (${record.publisher}/${record.type} ${record.version})`;
}

function himdsPort(env: NodeJS.ProcessEnv): number {
  const port = Number(env.AZCMAGENT_HIMDS_PORT);
  return env.AZCMAGENT_HIMDS_PORT !== undefined &&
    Number.isInteger(port) &&
    port > 0 &&
    port < 65536
    ? port
    : DEFAULT_HIMDS_PORT;
}

/** Handlers get the control plane's address when the machine is connected; removal needs none. */
function connection(paths: AgentPaths): {
  endpoint: string | undefined;
  resourceId: string | undefined;
  caFile: string | undefined;
} {
  let state;
  try {
    state = readAgentState(paths);
  } catch {
    state = undefined;
  }
  return {
    endpoint: state?.endpoint,
    resourceId: state?.resourceId,
    caFile: trustedCaFile(paths),
  };
}

/** Handlers are handed the CA only when root may trust it; removal works without it. */
function trustedCaFile(paths: AgentPaths): string | undefined {
  try {
    return readTrustedCa(paths) === undefined ? undefined : paths.caCert;
  } catch {
    return undefined;
  }
}

function cpuLimit(loaded: LoadedConfig): number {
  return loaded.state === 'ok'
    ? loaded.settings['extensions.agent.cpulimit']
    : defaultConfig()['extensions.agent.cpulimit'];
}

function logger(context: CommandContext, paths: AgentPaths): (line: string) => void {
  return (line) => {
    context.verbose(line);
    if (existsSync(paths.logDir))
      appendLogLine(paths.agentLog, systemClock.now(), `extension: ${line}`);
  };
}
