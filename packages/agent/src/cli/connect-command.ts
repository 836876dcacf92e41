// `azcmagent connect`: root only. Generates the machine key, creates the machine resource with a
// system-assigned identity and saves the local state; on any failure nothing is left behind.
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync, chmodSync } from 'node:fs';
import { hostname } from 'node:os';
import { machineResourceId, putMachine } from '../control-plane/machine-api.js';
import { AgentError } from '../errors.js';
import { trustedOwnerUid } from '../extensions/host/trusted-owner.js';
import { prepareAgentDirs } from '../identity/agent-dirs.js';
import { readAgentState, writeAgentState } from '../identity/agent-state.js';
import { expectedKeyOwner } from '../identity/himds-account.js';
import { osFacts } from '../identity/machine-facts.js';
import { generateMachineKey, writeMachineKey } from '../identity/machine-key.js';
import { localConfigEgress } from '../network/egress.js';
import type { CommandContext, CommandSpec } from './command-module.js';
import {
  CREDENTIAL_FLAGS,
  flagString,
  operatorTokenSource,
  resolveTarget,
} from './credential-flags.js';
import { requireRoot } from './require-root.js';

export const spec: CommandSpec = {
  usage: 'connect',
  summary: 'Connect this machine to a Tether control plane.',
  details:
    'Generates the machine key pair (the private key never leaves this machine), creates the machine\nresource with a system-assigned identity and saves the local state. Start the HIMDS service\nafterwards (systemctl start himds, or azcmagent service run himds).',
  flags: [
    ...CREDENTIAL_FLAGS,
    {
      long: 'location',
      short: 'l',
      type: 'string',
      valueName: 'region',
      description: 'Location of the machine resource (default: local)',
    },
    {
      long: 'tags',
      type: 'string',
      valueName: 'A=B,C=D',
      description: 'Tags of the machine resource',
    },
  ],
  positionals: { min: 0, max: 0 },
  examples: [
    'azcmagent connect --onboarding-token <token> --ca-cert /etc/tether/ca.crt',
    'azcmagent connect --endpoint https://tether.example:8443 --ca-cert ca.crt -t <tenant> -s <sub> -g rg1 -l westeurope -i <appId> -p <secret>',
  ],
};

const CREDENTIAL_DAYS = 90;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function parseTags(text: string | undefined): Record<string, string> {
  const tags: Record<string, string> = {};
  if (text === undefined || text.trim() === '') return tags;
  for (const pair of text.split(',')) {
    const at = pair.indexOf('=');
    const key = at < 0 ? '' : pair.slice(0, at).trim();
    if (key === '') {
      throw new AgentError(
        'ERR_INVALID_VALUE',
        `--tags entry "${pair}" is not NAME=VALUE; expected "A=B,C=D".`,
        { target: 'tags' },
      );
    }
    tags[key] = pair.slice(at + 1).trim();
  }
  return tags;
}

export async function run(context: CommandContext): Promise<number> {
  requireRoot(['connect']);
  const paths = context.paths();
  if (readAgentState(paths) !== undefined) {
    throw new AgentError(
      'ERR_ALREADY_CONNECTED',
      `This machine is already connected (${paths.agentState}). Run 'sudo azcmagent disconnect' first.`,
    );
  }
  const target = resolveTarget(context);
  const need = (value: string | undefined, flag: string, what: string): string => {
    if (value === undefined)
      throw new AgentError('ERR_USAGE', `Missing --${flag}: ${what}.`, { target: flag });
    return value;
  };
  const tenantId = need(target.tenantId, 'tenant-id', 'the tenant of the subscription');
  const subscriptionId = need(
    target.subscriptionId,
    'subscription-id',
    'the subscription of the machine',
  );
  const resourceGroup = need(
    target.resourceGroup,
    'resource-group',
    'the resource group of the machine',
  );
  const resourceName = flagString(context, 'resource-name') ?? hostname().split('.')[0] ?? '';
  if (!NAME.test(resourceName)) {
    throw new AgentError(
      'ERR_INVALID_VALUE',
      `--resource-name "${resourceName}" must be 1-63 letters, digits, '.', '_' or '-'.`,
      {
        target: 'resource-name',
      },
    );
  }
  const location = flagString(context, 'location') ?? 'local';
  const tags = parseTags(flagString(context, 'tags'));
  const correlationId = flagString(context, 'correlation-id');
  // Read before each call, like the services do, so a proxy set a moment ago already applies.
  const egress = localConfigEgress(paths, { trustedOwnerUid: trustedOwnerUid(paths) });
  const tokenFor = operatorTokenSource(context, target, egress);
  const progress = (line: string): void => {
    if (!context.json) context.out.stdout(`${line}\n`);
  };

  progress(`Connecting to ${target.endpoint} as ${resourceName} in ${resourceGroup}`);
  progress('Getting an access token');
  const token = await tokenFor(Date.now());
  const owner = expectedKeyOwner(paths, context.env);
  prepareAgentDirs(paths, owner);
  const created: string[] = [];
  try {
    progress('Generating the machine key pair (ECDSA P-256)');
    const key = generateMachineKey();
    created.push(paths.machineKey);
    writeMachineKey(paths.machineKey, key, owner);
    if (target.ca !== undefined) {
      created.push(paths.caCert);
      writeFileSync(paths.caCert, target.ca, { mode: 0o644 });
      chmodSync(paths.caCert, 0o644);
    }
    progress('Creating the machine resource');
    const vmId = randomUUID();
    const machine = await putMachine(
      {
        endpoint: target.endpoint,
        ca: target.ca,
        egress,
        subscriptionId,
        resourceGroup,
        resourceName,
      },
      token,
      { location, tags, properties: { ...osFacts(), clientPublicKey: key.clientPublicKey, vmId } },
      correlationId,
    );
    created.push(paths.agentState);
    writeAgentState(paths, {
      resourceId: machineResourceId({ subscriptionId, resourceGroup, resourceName }),
      resourceName,
      resourceGroup,
      subscriptionId,
      tenantId: machine.tenantId || tenantId,
      location,
      vmId,
      principalId: machine.principalId,
      endpoint: target.endpoint,
      tags,
      credentialExpiresOn: new Date(Date.now() + CREDENTIAL_DAYS * 86_400_000).toISOString(),
    });
    if (context.json) {
      context.printJson({
        Status: 'Connected',
        ResourceId: machine.id,
        PrincipalId: machine.principalId,
      });
    } else {
      progress(`Connected: ${machine.id}`);
      progress(`System-assigned identity: ${machine.principalId}`);
      progress(
        "Start the HIMDS service to begin heartbeats: 'systemctl start himds' or 'azcmagent service run himds'",
      );
    }
    return 0;
  } catch (error) {
    for (const file of created.reverse()) rmSync(file, { force: true });
    throw error;
  }
}
