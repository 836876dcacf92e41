// A guest configuration assignment PUT body, checked field by field: the configuration, its
// version, type, parameters and frequency. Unknown fields are refused, never dropped.
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
import { DEFAULT_FREQUENCY_MINUTES } from './gc-assignment-resource.js';

export const ASSIGNMENT_TYPES = [
  'Audit',
  'ApplyAndMonitor',
  'ApplyAndAutoCorrect',
  'DeployAndAutoCorrect',
] as const;
export type GcAssignmentType = (typeof ASSIGNMENT_TYPES)[number];

export interface GcAssignmentPut {
  configurationName: string;
  /** Exact (`1.0`) or a wildcard tail (`1.*`); `*` when not given. */
  version: string;
  assignmentType: GcAssignmentType;
  parameters: { name: string; value: string }[];
  frequencyMinutes: number;
  /** The hash the writer expects, checked against the repository's package. */
  contentHash: string | undefined;
  context: string;
}

const TOP = ['name', 'type', 'id', 'location', 'properties'];
const PROPERTIES = ['guestConfiguration', 'context'];
const GUEST_CONFIGURATION = [
  'name',
  'version',
  'contentUri',
  'contentHash',
  'contentType',
  'assignmentType',
  'assignmentSource',
  'configurationParameter',
  'configurationProtectedParameter',
  'configurationSetting',
  'kind',
];
const SETTING = [
  'configurationMode',
  'allowModuleOverwrite',
  'actionAfterReboot',
  'refreshFrequencyMins',
  'rebootIfNeeded',
  'configurationModeFrequencyMins',
];
const MAX_PARAMETERS = 64;

export function parseGcAssignmentPut(body: JsonObject, name: string): GcAssignmentPut {
  rejectUnknownFields(body, TOP, '');
  const properties = asObject(field(body, 'properties'), 'properties');
  rejectUnknownFields(properties, PROPERTIES, 'properties');
  const gc = asObject(field(properties, 'guestConfiguration'), 'properties.guestConfiguration');
  const path = 'properties.guestConfiguration';
  rejectUnknownFields(gc, GUEST_CONFIGURATION, path);
  const configurationName = requiredString(gc, 'name', `${path}.name`, 128);
  if (configurationName.toLowerCase() !== name.toLowerCase()) {
    throw invalidContent(
      `${path}.name`,
      `must be the assignment's name '${name}': an assignment is named after its configuration`,
    );
  }
  const version = optionalString(gc, 'version', `${path}.version`, 64) ?? '*';
  if (!/^(\d+(\.\d+){0,3}|(\d+\.){0,3}\*)$/.test(version)) {
    throw invalidContent(
      `${path}.version`,
      `is '${version}'; use an exact version such as 1.0.2 or a wildcard tail such as 1.*`,
    );
  }
  const assignmentType = optionalString(gc, 'assignmentType', `${path}.assignmentType`) ?? 'Audit';
  const knownType = ASSIGNMENT_TYPES.find((t) => t.toLowerCase() === assignmentType.toLowerCase());
  if (knownType === undefined) {
    throw invalidContent(
      `${path}.assignmentType`,
      `is '${assignmentType}'; accepted: ${ASSIGNMENT_TYPES.join(', ')}`,
    );
  }
  const contentHash = optionalString(gc, 'contentHash', `${path}.contentHash`, 128);
  if (contentHash !== undefined && !/^[0-9a-fA-F]{64}$/.test(contentHash)) {
    throw invalidContent(`${path}.contentHash`, "must be the package zip's SHA-256 in hex");
  }
  const kind = optionalString(gc, 'kind', `${path}.kind`);
  if (kind !== undefined && kind !== 'DSC') throw invalidContent(`${path}.kind`, "must be 'DSC'");
  const protectedParameters = field(gc, 'configurationProtectedParameter');
  if (
    Array.isArray(protectedParameters)
      ? protectedParameters.length > 0
      : protectedParameters != null
  ) {
    throw new ArmError(
      'InvalidRequestContent',
      `The request content is invalid: '${path}.configurationProtectedParameter' is not supported; pass the values in configurationParameter.`,
      { target: `${path}.configurationProtectedParameter` },
    );
  }
  return {
    configurationName,
    version,
    assignmentType: knownType,
    parameters: parametersOf(field(gc, 'configurationParameter'), `${path}.configurationParameter`),
    frequencyMinutes: frequencyOf(
      field(gc, 'configurationSetting'),
      `${path}.configurationSetting`,
    ),
    contentHash: contentHash?.toLowerCase(),
    context: optionalString(properties, 'context', 'properties.context', 256) ?? '',
  };
}

function parametersOf(value: unknown, target: string): { name: string; value: string }[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > MAX_PARAMETERS) {
    throw invalidContent(target, `must be a list of at most ${MAX_PARAMETERS} {name, value}`);
  }
  return value.map((entry, i) => {
    const item = asObject(entry, `${target}[${i}]`);
    rejectUnknownFields(item, ['name', 'value'], `${target}[${i}]`);
    return {
      name: requiredString(item, 'name', `${target}[${i}].name`, 256),
      value: optionalString(item, 'value', `${target}[${i}].value`, 4096) ?? '',
    };
  });
}

function frequencyOf(value: unknown, target: string): number {
  if (value === undefined || value === null) return DEFAULT_FREQUENCY_MINUTES;
  const setting = asObject(value, target);
  rejectUnknownFields(setting, SETTING, target);
  const minutes = field(setting, 'configurationModeFrequencyMins');
  if (minutes === undefined || minutes === null) return DEFAULT_FREQUENCY_MINUTES;
  if (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes < 15 || minutes > 1440) {
    throw invalidContent(
      `${target}.configurationModeFrequencyMins`,
      `is ${JSON.stringify(minutes)}; use a whole number of minutes from 15 to 1440`,
    );
  }
  return minutes;
}
