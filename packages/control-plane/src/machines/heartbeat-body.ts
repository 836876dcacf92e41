// The body of a heartbeat: the agent's version, OS facts, service statuses, local
// agentConfiguration and local changes, validated field by field; nothing unknown is stored.
import {
  isTetherError,
  parseAgentConfiguration,
  parseLocalChangeJournalId,
  parseLocalChanges,
  type LocalChange,
} from '@tether/protocol';
import { ArmError } from '../api/arm-error.js';
import {
  asObject,
  field,
  invalidContent,
  optionalString,
  rejectUnknownFields,
  requiredString,
  type JsonObject,
} from '../resources/arm-request.js';

const FACTS = ['agentVersion', 'osName', 'osVersion', 'osType', 'machineFqdn'] as const;
const SERVICES = ['himds', 'gcarcservice', 'extensionservice'] as const;
const FIELDS = [
  ...FACTS,
  'serviceStatuses',
  'agentConfiguration',
  'localChanges',
  'localChangesJournal',
];
const SERVICE_FIELDS = ['status', 'startupType'];

/** What a heartbeat leaves on the machine: shown in its `properties`. */
export type HeartbeatReport = JsonObject;

export function parseHeartbeat(body: JsonObject): HeartbeatReport {
  rejectUnknownFields(body, FIELDS, '');
  const report: JsonObject = {
    agentVersion: requiredString(body, 'agentVersion', 'agentVersion', 64),
  };
  for (const name of FACTS.slice(1)) {
    const value = optionalString(body, name, name, 256);
    if (value !== undefined) report[name] = value;
  }
  const services = field(body, 'serviceStatuses');
  if (services !== undefined && services !== null) {
    const object = asObject(services, 'serviceStatuses');
    rejectUnknownFields(object, SERVICES, 'serviceStatuses');
    const parsed: JsonObject = {};
    for (const name of SERVICES) {
      const entry = field(object, name);
      if (entry === undefined || entry === null) continue;
      const service = asObject(entry, `serviceStatuses.${name}`);
      rejectUnknownFields(service, SERVICE_FIELDS, `serviceStatuses.${name}`);
      parsed[name] = {
        status: requiredString(service, 'status', `serviceStatuses.${name}.status`, 64),
        startupType: requiredString(
          service,
          'startupType',
          `serviceStatuses.${name}.startupType`,
          64,
        ),
      };
    }
    report['serviceStatuses'] = parsed;
  }
  const configuration = field(body, 'agentConfiguration');
  if (configuration === undefined || configuration === null) {
    throw invalidContent(
      'agentConfiguration',
      'is required: report what is in force on the machine',
    );
  }
  try {
    report['agentConfiguration'] = parseAgentConfiguration(configuration);
  } catch (error) {
    if (!isTetherError(error)) throw error;
    const target = `agentConfiguration${error.target === undefined ? '' : `.${error.target}`}`;
    throw new ArmError('InvalidRequestContent', error.message, { target });
  }
  return report;
}

/** What a heartbeat reports of the machine's change journal: which journal, and its new changes. */
export interface HeartbeatLocalChanges {
  /** The journal's id; '' for a journal without one. */
  readonly journal: string;
  readonly changes: LocalChange[];
}

/** The changes made on the machine since the control plane last acknowledged; [] when none. */
export function parseHeartbeatLocalChanges(body: JsonObject): HeartbeatLocalChanges {
  const changes = field(body, 'localChanges');
  try {
    const journal = parseLocalChangeJournalId(field(body, 'localChangesJournal'));
    if (changes === undefined || changes === null) return { journal, changes: [] };
    return { journal, changes: parseLocalChanges(changes) };
  } catch (error) {
    if (!isTetherError(error)) throw error;
    const target =
      error.target === 'localChangesJournal'
        ? error.target
        : `localChanges${error.target?.startsWith('[') === true ? error.target : ''}`;
    throw new ArmError('InvalidRequestContent', error.message, { target });
  }
}
