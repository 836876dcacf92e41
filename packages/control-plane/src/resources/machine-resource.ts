// The Microsoft.HybridCompute/machines resource: what a PUT may set, what only the control
// plane and the agent's own reports may set (status, agentConfiguration: S7), and the ARM shape.
import { ArmError } from '../api/arm-error.js';
import type { MachineAgentView } from '../machines/machine-agent-view.js';
import type { MachinesTable } from '../store/schema.js';
import {
  asObject,
  checkEchoedNameAndType,
  field,
  invalidContent,
  optionalString,
  rejectUnknownFields,
  type JsonObject,
} from './arm-request.js';
import {
  parseAgentUpgradeRequest,
  type AgentUpgradeRequest,
} from '../agent-upgrade/agent-upgrade-request.js';
import { isGuid } from './arm-names.js';
import { parseLocation, parseTags, type Tags } from './arm-tags.js';

export const MACHINE_RESOURCE_TYPE = 'Microsoft.HybridCompute/machines';

/** Facts the onboarding agent states about its machine; a PUT may set them. */
const WRITABLE_STRINGS = [
  'clientPublicKey',
  'osName',
  'osVersion',
  'osType',
  'osSku',
  'agentVersion',
  'machineFqdn',
  'domainName',
  'dnsFqdn',
  'adFqdn',
  'mssqlDiscovered',
  'parentClusterResourceId',
  'privateLinkScopeResourceId',
] as const;
const WRITABLE = [...WRITABLE_STRINGS, 'vmId', 'locationData', 'detectedProperties'] as const;

/** Kept by the control plane from the agent's reports; never taken from an API caller. */
const READ_ONLY = [
  'provisioningState',
  'status',
  'lastStatusChange',
  'errorDetails',
  'agentConfiguration',
  'serviceStatuses',
  'extensions',
  'vmUuid',
  'displayName',
  'osProfile',
  'cloudMetadata',
  'licenseProfile',
] as const;

export interface MachinePut {
  location: string;
  tags: Tags;
  /** Only the fields the body names; the rest of a stored machine stays as it is. */
  properties: JsonObject;
  /** The body asks for the system-assigned identity (created, or replaced on re-onboarding). */
  systemAssignedIdentity: boolean;
  /** `properties.agentUpgrade`: an agent upgrade asked for (docs/agent-upgrade.md). */
  agentUpgrade: AgentUpgradeRequest | undefined;
}

/** Validates a PUT body for the machine `name`; every refusal names the field. */
export function parseMachinePut(body: JsonObject, name: string): MachinePut {
  rejectUnknownFields(
    body,
    ['location', 'tags', 'properties', 'identity', 'id', 'name', 'type', 'systemData'],
    '',
  );
  checkEchoedNameAndType(body, name, 'machine', MACHINE_RESOURCE_TYPE);
  const systemAssignedIdentity = parseIdentity(field(body, 'identity'));
  const rawProperties = field(body, 'properties');
  const properties =
    rawProperties === undefined || rawProperties === null
      ? {}
      : { ...asObject(rawProperties, 'properties') };
  const agentUpgrade = takeAgentUpgrade(properties);
  return {
    location: parseLocation(field(body, 'location')),
    tags: parseTags(field(body, 'tags')) ?? {},
    properties: parseWritableProperties(properties),
    systemAssignedIdentity,
    agentUpgrade,
  };
}

/** Every Tether machine has a system-assigned identity (S15); nothing else is offered. */
function parseIdentity(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  const identity = asObject(value, 'identity');
  rejectUnknownFields(identity, ['type', 'principalId', 'tenantId'], 'identity');
  const type = field(identity, 'type');
  if (type !== undefined && type !== 'SystemAssigned') {
    throw invalidContent(
      'identity.type',
      "must be 'SystemAssigned': every machine has its own managed identity",
    );
  }
  return true;
}

function parseWritableProperties(properties: JsonObject): JsonObject {
  for (const key of Object.keys(properties)) {
    const readOnly = READ_ONLY.find((k) => k.toLowerCase() === key.toLowerCase());
    if (readOnly === 'agentConfiguration') {
      throw invalidContent(
        'properties.agentConfiguration',
        "is read-only: a machine's local security settings can be changed only by `azcmagent config` on the machine itself",
      );
    }
    if (readOnly !== undefined) {
      throw invalidContent(
        `properties.${readOnly}`,
        'is read-only: the control plane sets it from what the agent reports',
      );
    }
  }
  rejectUnknownFields(properties, WRITABLE, 'properties');
  const parsed: JsonObject = {};
  for (const name of WRITABLE_STRINGS) {
    const value = optionalString(properties, name, `properties.${name}`, 8192);
    if (value !== undefined) parsed[name] = value;
  }
  const vmId = optionalString(properties, 'vmId', 'properties.vmId');
  if (vmId !== undefined) {
    if (!isGuid(vmId)) throw invalidContent('properties.vmId', 'must be a GUID');
    parsed['vmId'] = vmId.toLowerCase();
  }
  const locationData = field(properties, 'locationData');
  if (locationData !== undefined && locationData !== null) {
    const data = asObject(locationData, 'properties.locationData');
    rejectUnknownFields(
      data,
      ['name', 'city', 'district', 'countryOrRegion'],
      'properties.locationData',
    );
    const copy: JsonObject = {};
    for (const key of ['name', 'city', 'district', 'countryOrRegion']) {
      const value = optionalString(data, key, `properties.locationData.${key}`, 256);
      if (value !== undefined) copy[key] = value;
    }
    if (copy['name'] === undefined)
      throw invalidContent('properties.locationData.name', 'is required');
    parsed['locationData'] = copy;
  }
  const detected = parseTags(
    field(properties, 'detectedProperties'),
    'properties.detectedProperties',
  );
  if (detected !== undefined) parsed['detectedProperties'] = detected;
  return parsed;
}

/** Removes `agentUpgrade` from `properties` and parses it. */
function takeAgentUpgrade(properties: JsonObject): AgentUpgradeRequest | undefined {
  const key = Object.keys(properties).find((k) => k.toLowerCase() === 'agentupgrade');
  if (key === undefined) return undefined;
  const value = properties[key];
  delete properties[key];
  return value === null ? undefined : parseAgentUpgradeRequest(value);
}

/** PATCH takes tags and an agent upgrade; the machine's facts come from its agent. */
export function parseMachinePatch(body: JsonObject): {
  tags: Tags | undefined;
  agentUpgrade: AgentUpgradeRequest | undefined;
} {
  rejectUnknownFields(body, ['tags', 'properties'], '');
  const raw = field(body, 'properties');
  let agentUpgrade: AgentUpgradeRequest | undefined;
  if (raw !== undefined && raw !== null) {
    const properties = { ...asObject(raw, 'properties') };
    agentUpgrade = takeAgentUpgrade(properties);
    const other = Object.keys(properties)[0];
    if (other !== undefined) {
      throw invalidContent(
        `properties.${other}`,
        "cannot be changed by PATCH: a machine's facts come from its agent; PATCH takes tags and properties.agentUpgrade",
      );
    }
  }
  return { tags: parseTags(field(body, 'tags')), agentUpgrade };
}

export interface MachineView {
  row: MachinesTable;
  /** The resource group's name as its creator spelled it. */
  resourceGroupName: string;
  identityPrincipalId: string | undefined;
  tenantId: string | undefined;
  /** Status and last report of the machine's agent, for machines with an identity. */
  agent?: MachineAgentView | undefined;
}

export function machineId(subscriptionId: string, resourceGroupName: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}/providers/${MACHINE_RESOURCE_TYPE}/${name}`;
}

export function renderMachine(view: MachineView): JsonObject {
  const { row } = view;
  const stored = JSON.parse(row.properties) as JsonObject;
  const agent = view.agent;
  return {
    id: machineId(row.subscription_id, view.resourceGroupName, row.name),
    name: row.name,
    type: MACHINE_RESOURCE_TYPE,
    location: row.location,
    tags: JSON.parse(row.tags) as Tags,
    ...(view.identityPrincipalId === undefined
      ? {}
      : {
          identity: {
            type: 'SystemAssigned',
            principalId: view.identityPrincipalId,
            tenantId: view.tenantId,
          },
        }),
    properties: {
      ...stored,
      // The agent's own latest report wins over what was stated when it was onboarded.
      ...agent?.report,
      provisioningState: stored['provisioningState'] ?? 'Succeeded',
      // Until the agent's first heartbeat says otherwise, nobody has heard from the machine.
      status: agent?.status ?? stored['status'] ?? 'Disconnected',
      lastStatusChange: agent?.lastStatusChange ?? stored['lastStatusChange'] ?? row.created_at,
      ...(agent?.lastHeartbeat === undefined ? {} : { lastHeartbeat: agent.lastHeartbeat }),
      displayName: row.name,
      errorDetails: stored['errorDetails'] ?? [],
    },
  };
}

/** A PUT over an existing machine: location is fixed for life, as in ARM. */
export function checkLocationUnchanged(existing: MachinesTable, location: string): void {
  if (existing.location !== location) {
    throw new ArmError(
      'InvalidResourceLocation',
      `The machine '${existing.name}' already exists in location '${existing.location}'; it cannot be moved to '${location}'.`,
      { target: 'location' },
    );
  }
}
