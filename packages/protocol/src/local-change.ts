// A change of the machine's local configuration as the agent's audit journal records it and a
// heartbeat carries it (`localChanges`), with the strict validator the control plane applies.
import { TetherError } from './tether-error.js';

/** One `azcmagent config set|clear` effect on one property, numbered per machine. */
export interface LocalChange {
  /** Increases by one with every change on the machine; never reused. */
  readonly sequence: number;
  /** The machine's clock when the change was written (ISO 8601, UTC). */
  readonly time: string;
  /** The real uid of the process that made the change: the authority on who it was. */
  readonly uid: number;
  /** The account name of `uid`, when the machine could resolve it. */
  readonly userName?: string;
  /** The uid `sudo` reported as its caller, when the change ran under sudo. */
  readonly sudoUid?: number;
  /** A configuration property such as `extensions.allowlist`, or `*` for every property at once. */
  readonly property: string;
  /** As `azcmagent config get` shows them. */
  readonly oldValue: string;
  readonly newValue: string;
}

/** What one heartbeat carries at most; the rest follows once these are acknowledged. */
export const MAX_LOCAL_CHANGES_PER_HEARTBEAT = 25;
export const MAX_LOCAL_CHANGE_VALUE_LENGTH = 8192;

export type LocalChangeErrorCode = 'ERR_INVALID_LOCAL_CHANGE';

/**
 * A change journal's identity: a random UUID, the journal's first line (`{"journalId":"…"}`) from
 * the moment it is created, and sent with its changes. Numbering starts again at 1 in a journal
 * created afresh (the old one deleted), so a sequence means something only within its journal.
 * A journal written before journals had an identity has none (the empty string).
 */
const JOURNAL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The `localChangesJournal` of a heartbeat: '' when absent (a journal with no identity). */
export function parseLocalChangeJournalId(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string' || !JOURNAL_ID.test(value)) {
    // Quoted as JSON: a control character in it must not forge a line of a log.
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 60)) : typeof value;
    fail('localChangesJournal', `is ${shown}, not a journal id (a lower-case UUID)`);
  }
  return value;
}

/** Every field a change may carry. */
export const LOCAL_CHANGE_FIELDS = [
  'sequence',
  'time',
  'uid',
  'userName',
  'sudoUid',
  'property',
  'oldValue',
  'newValue',
] as const satisfies readonly (keyof LocalChange)[];

const PROPERTY = /^(\*|[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)*)$/;
const USER_NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.@-]*\$?$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const MAX_UID = 0xffff_fffe; // (uid_t)-1 means "no user"

/**
 * Validates the `localChanges` of a heartbeat: at most MAX_LOCAL_CHANGES_PER_HEARTBEAT entries,
 * sequences strictly increasing (oldest first), every field checked; unknown fields are errors.
 */
export function parseLocalChanges(value: unknown): LocalChange[] {
  if (!Array.isArray(value)) fail('localChanges', 'must be an array of changes');
  if (value.length > MAX_LOCAL_CHANGES_PER_HEARTBEAT) {
    fail(
      'localChanges',
      `holds ${value.length} changes; at most ${MAX_LOCAL_CHANGES_PER_HEARTBEAT} are accepted in one heartbeat`,
    );
  }
  const changes = value.map((entry: unknown, index) => parseLocalChange(entry, `[${index}]`));
  changes.forEach((change, index) => {
    const before = changes[index - 1];
    if (before !== undefined && change.sequence <= before.sequence) {
      fail(
        `[${index}].sequence`,
        `is ${change.sequence} after ${before.sequence}; changes must be sent oldest first, each once`,
      );
    }
  });
  return changes;
}

export function parseLocalChange(value: unknown, target = ''): LocalChange {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(target, 'must be a JSON object');
  }
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).find(
    (k) => !(LOCAL_CHANGE_FIELDS as readonly string[]).includes(k),
  );
  if (unknown !== undefined) fail(`${target}.${unknown}`, 'is not a known local change field');
  const at = (key: string): string => `${target}.${key}`;
  const time = stringField(record, 'time', at('time'), 40);
  if (!TIME.test(time) || Number.isNaN(Date.parse(time))) {
    fail(at('time'), `is "${time}", not a UTC time such as 2026-01-01T00:00:00.000Z`);
  }
  const property = stringField(record, 'property', at('property'), 100);
  if (!PROPERTY.test(property)) {
    fail(at('property'), `is "${property}", not a configuration property name or *`);
  }
  const change: LocalChange = {
    sequence: integerField(record, 'sequence', at('sequence'), 1, Number.MAX_SAFE_INTEGER),
    time,
    uid: integerField(record, 'uid', at('uid'), 0, MAX_UID),
    property,
    oldValue: stringField(record, 'oldValue', at('oldValue'), MAX_LOCAL_CHANGE_VALUE_LENGTH),
    newValue: stringField(record, 'newValue', at('newValue'), MAX_LOCAL_CHANGE_VALUE_LENGTH),
  };
  if (record.userName !== undefined) {
    const userName = stringField(record, 'userName', at('userName'), 256);
    if (!USER_NAME.test(userName)) fail(at('userName'), `is "${userName}", not an account name`);
    Object.assign(change, { userName });
  }
  if (record.sudoUid !== undefined) {
    Object.assign(change, { sudoUid: integerField(record, 'sudoUid', at('sudoUid'), 0, MAX_UID) });
  }
  return Object.freeze(change);
}

function fail(target: string, why: string): never {
  const name = target.startsWith('.') ? target.slice(1) : target;
  throw new TetherError<LocalChangeErrorCode>(
    'ERR_INVALID_LOCAL_CHANGE',
    `Invalid local change: ${name === '' ? 'the entry' : name} ${why}.`,
    { target: name },
  );
}

function stringField(
  record: Record<string, unknown>,
  key: string,
  target: string,
  maxLength: number,
): string {
  const value = record[key];
  if (typeof value !== 'string') fail(target, 'must be a string');
  if (value.length > maxLength) {
    fail(target, `is ${value.length} characters long; at most ${maxLength} are accepted`);
  }
  // Shown in tables and logs: a control character could forge or hide a line.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) fail(target, 'contains a control character');
  return value;
}

function integerField(
  record: Record<string, unknown>,
  key: string,
  target: string,
  min: number,
  max: number,
): number {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(target, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}
