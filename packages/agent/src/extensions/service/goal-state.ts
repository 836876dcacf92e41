// The goal state the control plane answers to `GET …/extensionGoalState` (docs/extensions.md),
// checked field by field: the reconciler acts only on a well-formed answer.
import { isDebianVersion, type AgentUpgradeGoal } from '@tether/protocol/agent-upgrade';
import type { SealedSettings } from '@tether/protocol/protected-settings';

export type OperationKind = 'install' | 'update' | 'upgrade' | 'remove';

export interface GoalStateOperation {
  readonly id: string;
  readonly kind: OperationKind;
}

export interface GoalStateExtension {
  readonly name: string;
  readonly publisher: string;
  readonly type: string;
  /** The exact package version the control plane resolved. */
  readonly version: string;
  readonly sequence: number;
  readonly settings: Readonly<Record<string, unknown>>;
  /** Sealed to the machine key; opened only when the operation is allowed. */
  readonly protectedSettings: SealedSettings | null;
  /** `removed`: a delete is pending. */
  readonly state: 'enabled' | 'removed';
  /** The InProgress operation to carry out, or null. */
  readonly operation: GoalStateOperation | null;
}

export interface GoalState {
  readonly generation: number;
  readonly extensions: readonly GoalStateExtension[];
  /** The agent package to run, when an upgrade was asked for (docs/agent-upgrade.md). */
  readonly agentUpgrade?: AgentUpgradeGoal | null;
}

const KINDS: readonly OperationKind[] = ['install', 'update', 'upgrade', 'remove'];

/** Throws an Error naming the first field that is missing or of the wrong type. */
export function parseGoalState(body: unknown): GoalState {
  const record = object(body, 'the answer');
  const generation = record['generation'];
  if (typeof generation !== 'number' || !Number.isSafeInteger(generation)) {
    throw new Error('the goal state has no integer "generation"');
  }
  const list = record['extensions'];
  if (!Array.isArray(list)) throw new Error('the goal state has no "extensions" list');
  return {
    generation,
    extensions: list.map((item, index) => parseExtension(item, index)),
    agentUpgrade: agentUpgrade(record['agentUpgrade']),
  };
}

/** A control plane from before agent upgrades sends none: the same as null. */
function agentUpgrade(value: unknown): AgentUpgradeGoal | null {
  if (value == null) return null;
  const record = object(value, 'agentUpgrade');
  const { version, sha256, size, downloadPath, correlationId, signature } = record;
  if (typeof version !== 'string' || !isDebianVersion(version)) {
    throw new Error('agentUpgrade.version is not a Debian version');
  }
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) {
    throw new Error('agentUpgrade.sha256 is not a lower-case hex SHA-256');
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) {
    throw new Error('agentUpgrade.size is not a positive integer');
  }
  // A path on the control plane itself: the package comes from where the goal state came from.
  if (typeof downloadPath !== 'string' || !/^\/providers\/[^\s]*$/.test(downloadPath)) {
    throw new Error('agentUpgrade.downloadPath is not a path on the control plane');
  }
  if (typeof correlationId !== 'string' || !/^[0-9a-f-]{36}$/.test(correlationId)) {
    throw new Error('agentUpgrade.correlationId is not a GUID');
  }
  // A missing or oversized signature is kept as none: the machine then refuses the upgrade and
  // says why, instead of refusing the whole goal state.
  const signed = typeof signature === 'string' && signature.length <= 8192 ? signature : '';
  return { version, sha256, size, signature: signed, downloadPath, correlationId };
}

function parseExtension(value: unknown, index: number): GoalStateExtension {
  const where = `extensions[${index}]`;
  const record = object(value, where);
  const text = (field: string): string => {
    const item = record[field];
    if (typeof item !== 'string' || item === '')
      throw new Error(`${where}.${field} is not a string`);
    return item;
  };
  const sequence = record['sequence'];
  if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 0) {
    throw new Error(`${where}.sequence is not a non-negative integer`);
  }
  const state = record['state'];
  if (state !== 'enabled' && state !== 'removed') {
    throw new Error(`${where}.state is not "enabled" or "removed"`);
  }
  return {
    name: text('name'),
    publisher: text('publisher'),
    type: text('type'),
    version: text('version'),
    sequence,
    settings: record['settings'] == null ? {} : object(record['settings'], `${where}.settings`),
    protectedSettings: sealed(record['protectedSettings'], `${where}.protectedSettings`),
    state,
    operation: operation(record['operation'], `${where}.operation`),
  };
}

function sealed(value: unknown, where: string): SealedSettings | null {
  if (value == null) return null;
  const record = object(value, where);
  const { jwe, keyId } = record;
  if (typeof jwe !== 'string' || typeof keyId !== 'string') {
    throw new Error(`${where} needs the strings "jwe" and "keyId"`);
  }
  return { jwe, keyId };
}

function operation(value: unknown, where: string): GoalStateOperation | null {
  if (value == null) return null;
  const record = object(value, where);
  const { id, kind } = record;
  if (typeof id !== 'string' || id === '') throw new Error(`${where}.id is not a string`);
  if (!KINDS.includes(kind as OperationKind)) {
    throw new Error(`${where}.kind is not one of ${KINDS.join(', ')}`);
  }
  return { id, kind: kind as OperationKind };
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${where} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
