// Validates the guest configuration goal state the control plane answers (or the copy cached on
// disk) before the service acts on it: every field's type, hex hashes, known assignment types,
// unique names. A goal state that fails is refused whole, naming the field.
import type {
  AssignmentType,
  GuestConfigurationGoalAssignment,
  GuestConfigurationGoalState,
} from '@tether/protocol';

const ASSIGNMENT_TYPES: readonly AssignmentType[] = [
  'Audit',
  'ApplyAndMonitor',
  'ApplyAndAutoCorrect',
];
const MAX_NAME = 260;
/** A day: beyond it an assignment is effectively never evaluated. */
const MAX_FREQUENCY_MINUTES = 24 * 60;

export function parseGcGoalState(value: unknown): GuestConfigurationGoalState {
  const body = record(value, 'the goal state');
  const generation = count(body['generation'], 'generation');
  const list = body['assignments'];
  if (!Array.isArray(list)) throw new Error('assignments must be a list');
  const names = new Set<string>();
  const assignments = list.map((item, index) => {
    const assignment = parseAssignment(item, `assignments[${index}]`);
    if (names.has(assignment.name)) {
      throw new Error(`assignments[${index}].name "${assignment.name}" appears twice`);
    }
    names.add(assignment.name);
    return assignment;
  });
  return { generation, assignments };
}

function parseAssignment(value: unknown, at: string): GuestConfigurationGoalAssignment {
  const a = record(value, at);
  const contentHash = text(a['contentHash'], `${at}.contentHash`);
  if (!/^[0-9a-fA-F]{64}$/.test(contentHash)) {
    throw new Error(`${at}.contentHash must be 64 hex digits (a SHA-256)`);
  }
  const assignmentType = a['assignmentType'];
  if (!ASSIGNMENT_TYPES.includes(assignmentType as AssignmentType)) {
    throw new Error(`${at}.assignmentType must be one of ${ASSIGNMENT_TYPES.join(', ')}`);
  }
  const parameters = a['parameters'];
  if (!Array.isArray(parameters)) throw new Error(`${at}.parameters must be a list`);
  const frequencyMinutes = a['frequencyMinutes'];
  if (
    typeof frequencyMinutes !== 'number' ||
    !(frequencyMinutes > 0) ||
    frequencyMinutes > MAX_FREQUENCY_MINUTES
  ) {
    throw new Error(`${at}.frequencyMinutes must be a number of minutes, above 0 and at most 1440`);
  }
  return {
    name: text(a['name'], `${at}.name`),
    configurationName: text(a['configurationName'], `${at}.configurationName`),
    version: text(a['version'], `${at}.version`),
    publisher: text(a['publisher'], `${at}.publisher`),
    contentUri: text(a['contentUri'], `${at}.contentUri`, { max: 4096 }),
    contentHash: contentHash.toLowerCase(),
    assignmentType: assignmentType as AssignmentType,
    parameters: parameters.map((p, i) => {
      const parameter = record(p, `${at}.parameters[${i}]`);
      return {
        name: text(parameter['name'], `${at}.parameters[${i}].name`),
        value: text(parameter['value'], `${at}.parameters[${i}].value`, {
          max: 64 * 1024,
          empty: true,
        }),
      };
    }),
    frequencyMinutes,
    evaluationRequest: count(a['evaluationRequest'], `${at}.evaluationRequest`),
  };
}

function record(value: unknown, at: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${at} must be an object`);
  }
  return value as Record<string, unknown>;
}

function text(value: unknown, at: string, options: { max?: number; empty?: boolean } = {}): string {
  const max = options.max ?? MAX_NAME;
  if (typeof value !== 'string' || (options.empty !== true && value === '')) {
    throw new Error(`${at} must be a${options.empty === true ? '' : ' non-empty'} string`);
  }
  if (value.length > max) throw new Error(`${at} must be at most ${max} characters`);
  return value;
}

function count(value: unknown, at: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${at} must be a whole number, 0 or more`);
  }
  return value;
}
