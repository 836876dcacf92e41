// `azcmagent show`: the machine's connection as aligned `Label : value` lines (SPEC §4) or JSON;
// anyone may run it. Reads agentconfig.json and the status files the services write.
import { loadLocalConfig } from '../config/local-config-file.js';
import { readAgentState } from '../identity/agent-state.js';
import { readServiceStatus, type ServiceStatus } from '../himds/service-status.js';
import { AgentError } from '../errors.js';
import { describeProxy } from '../network/proxy-route.js';
import type { AgentPaths } from '../paths.js';
import { agentVersion } from '../version.js';
import type { CommandContext, CommandSpec } from './command-module.js';

export const spec: CommandSpec = {
  usage: 'show [property...]',
  summary: 'Show the machine resource, the connection status and the services.',
  flags: [],
  positionals: { min: 0, max: 20 },
  examples: [
    'azcmagent show',
    'azcmagent show "Agent Status" "Resource Id"',
    'azcmagent show --json',
  ],
};

export type ShowLine = readonly [label: string, value: string];

export function formatShowLines(lines: readonly ShowLine[]): string {
  const width = Math.max(...lines.map(([label]) => label.length));
  return lines.map(([label, value]) => `${label.padEnd(width)} : ${value}`).join('\n') + '\n';
}

function serviceLine(name: string, status: ServiceStatus | undefined): string {
  if (status === undefined) return `${name} (unknown)`;
  const changes =
    status.status === 'running' && status.goalStateChanges !== undefined
      ? `; goal-state changes by ${status.goalStateChanges}`
      : '';
  return `${name} (${status.status}${status.detail === undefined ? '' : `: ${status.detail}`}${changes})`;
}

/** The proxy the agent's next connection uses, as the services read it per connection. */
function proxyLine(paths: AgentPaths): string {
  const loaded = loadLocalConfig(paths);
  if (loaded.state === 'corrupt') {
    return `unknown: ${paths.localConfig} cannot be used, so nothing is sent until it is repaired`;
  }
  return describeProxy(loaded.settings);
}

export function run(context: CommandContext): number {
  const paths = context.paths();
  const state = readAgentState(paths);
  const himds = readServiceStatus(paths.serviceStatus('himds'));
  const status =
    state === undefined
      ? 'Disconnected'
      : himds?.status === 'running' &&
          himds.lastError === undefined &&
          himds.lastHeartbeat !== undefined
        ? 'Connected'
        : 'Disconnected';
  const lines: ShowLine[] = [
    ['Resource Name', state?.resourceName ?? ''],
    ['Resource Group Name', state?.resourceGroup ?? ''],
    ['Resource Id', state?.resourceId ?? ''],
    ['Subscription ID', state?.subscriptionId ?? ''],
    ['Tenant ID', state?.tenantId ?? ''],
    ['VM ID', state?.vmId ?? ''],
    ['Location', state?.location ?? ''],
    ['Agent Version', agentVersion()],
    ['Agent Logfile', paths.agentLog],
    ['Agent Status', status],
    ['Agent Last Heartbeat', himds?.lastHeartbeat ?? ''],
    ['Agent Error Code', himds?.lastError === undefined ? '' : 'HeartbeatFailed'],
    ['Agent Error Details', himds?.lastError ?? ''],
    ['Credential Expires On', himds?.credentialExpiresOn ?? state?.credentialExpiresOn ?? ''],
    ['Using HTTPS Proxy', proxyLine(paths)],
    ['Dependent Service Status', ''],
    ['  Agent Service (himds)', serviceLine('himds', himds)],
    [
      '  GC Service (gcarcservice)',
      serviceLine('gcarcservice', readServiceStatus(paths.serviceStatus('gc'))),
    ],
    [
      '  Extension Service (extensionservice)',
      serviceLine('extensionservice', readServiceStatus(paths.serviceStatus('extension'))),
    ],
  ];
  const wanted = context.positionals.map((p) => p.toLowerCase());
  const unknown = wanted.filter((w) => !lines.some(([label]) => label.trim().toLowerCase() === w));
  if (unknown.length > 0) {
    throw new AgentError(
      'ERR_UNKNOWN_PROPERTY',
      `Unknown property "${unknown[0] ?? ''}" for show. Available: ${lines.map(([l]) => l.trim()).join(', ')}.`,
      { target: unknown[0] },
    );
  }
  const chosen =
    wanted.length === 0
      ? lines
      : lines.filter(([label]) => wanted.includes(label.trim().toLowerCase()));
  if (context.json) {
    context.printJson(
      Object.fromEntries(
        chosen.map(([label, value]) => [label.trim().replace(/[^A-Za-z0-9]+/g, ''), value]),
      ),
    );
  } else {
    context.out.stdout(formatShowLines(chosen));
  }
  return 0;
}
