// Targets for the audit of local changes: the `localChanges` a heartbeat carries to the control
// plane, and the change journal and HIMDS status file the agent reads back from its data folder.
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_CHANGE_FIELDS, parseLocalChange, type LocalChange } from '@tether/protocol';
import { acknowledgedLocalChanges } from '@tether/agent/config/acknowledged-local-changes';
import { readLocalChangeJournal } from '@tether/agent/config/local-change-journal';
import { parseHeartbeatLocalChanges } from '@tether/control-plane/machines/heartbeat-body';
import fc from 'fast-check';
import { jsonAround, textFrom } from '../arbitraries.js';
import { describeError, expectOnly, tetherError } from '../expect-only.js';
import { fuzzTarget, type FuzzTarget } from '../fuzz-target.js';

const CHANGE_KEYS = LOCAL_CHANGE_FIELDS;

const CHANGE_LEAVES = [
  1,
  2,
  3,
  0,
  -1,
  4_294_967_294,
  4_294_967_295,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  '2026-12-03T06:00:00.000Z',
  '2026-12-03T06:00:00Z',
  '2026-02-30T25:61:61Z',
  '2026-12-03 06:00:00',
  'extensions.allowlist',
  'extensions.enabled',
  'guestconfiguration.enabled',
  '*',
  'Extensions.Allowlist',
  'a..b',
  'root',
  'alice',
  'machine$',
  '-rf',
  'a\nb',
  'Microsoft.Azure.Monitor/*',
  'x'.repeat(8193),
];

/** A change that passes validation, so mutations and orderings start from real records. */
// Arbitraries are made when a target opens: making a string arbitrary costs seconds of setup.
const validChange = (): fc.Arbitrary<Record<string, unknown>> =>
  fc.record(
    {
      sequence: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constant(Number.MAX_SAFE_INTEGER)),
      time: fc.constantFrom('2026-12-03T06:00:00.000Z', '2026-01-01T00:00:00Z'),
      uid: fc.oneof(fc.constantFrom(0, 1000, 4_294_967_294), fc.nat()),
      userName: fc.constantFrom('root', 'alice', 'svc.backup', 'machine$'),
      sudoUid: fc.constantFrom(0, 1000),
      property: fc.constantFrom('extensions.allowlist', 'incomingconnections.ports', '*'),
      oldValue: fc.string({ maxLength: 12 }),
      newValue: fc.string({ maxLength: 12 }),
    },
    { requiredKeys: ['sequence', 'time', 'uid', 'property', 'oldValue', 'newValue'] },
  );

const changeLike = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 3, arbitrary: validChange() },
    { weight: 2, arbitrary: jsonAround(CHANGE_KEYS, CHANGE_LEAVES, 2) },
  );

/** The order a valid result must keep: sequences strictly increasing, each change valid alone. */
function orderFinding(changes: readonly LocalChange[]): string | undefined {
  for (const [index, change] of changes.entries()) {
    const before = changes[index - 1];
    if (before !== undefined && change.sequence <= before.sequence) {
      return `crash: accepted sequence ${change.sequence} after ${before.sequence}`;
    }
    const again = expectOnly(tetherError, () =>
      parseLocalChange(JSON.parse(JSON.stringify(change))),
    );
    if (again !== undefined) return `crash: an accepted change does not parse again: ${again}`;
  }
  return undefined;
}

const heartbeatLocalChanges = fuzzTarget(
  'local-changes',
  'control-plane machines/heartbeat-body parseHeartbeatLocalChanges (a heartbeat’s localChanges)',
  () => ({
    arbitrary: fc.oneof(
      fc.array(changeLike(), { maxLength: 6 }),
      fc.array(validChange(), { minLength: 24, maxLength: 27 }),
      jsonAround(CHANGE_KEYS, CHANGE_LEAVES, 3),
    ),
    check: (value: unknown) => {
      let changes: LocalChange[] = [];
      const thrown = expectOnly(tetherError, () => {
        changes = parseHeartbeatLocalChanges({ localChanges: value }).changes;
      });
      return thrown ?? orderFinding(changes);
    },
  }),
);

const JOURNAL_ID = '0b9e7d36-5c1f-4c59-9a7e-3f6d2b1c8e41';

/** The identity line a journal starts with, or something that resembles it. */
const journalHeader = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant(''),
    fc.constant(`{"journalId":"${JOURNAL_ID}"}\n`),
    jsonAround(
      ['journalId', 'sequence'],
      [JOURNAL_ID, JOURNAL_ID.toUpperCase(), `${JOURNAL_ID}\n`, '', 'x', 1],
      1,
    ).map((value) => `${JSON.stringify(value) ?? ''}\n`),
  );

interface JournalInput {
  readonly header: string;
  readonly lines: readonly string[];
  readonly tail: string;
  readonly damage: readonly { at: number; byte: number }[];
  readonly status: string;
}

const journalLine = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: changeLike().map((value) => JSON.stringify(value) ?? '') },
    {
      weight: 1,
      arbitrary: textFrom(['{', '}', '"sequence"', ':', ',', '1', '\r', '\uFEFF', ' ']),
    },
  );

const statusText = (): fc.Arbitrary<string> =>
  fc.oneof(
    jsonAround(
      ['localChangesAcknowledged', 'localChangesJournal', 'service', 'status'],
      [1, 2, 0, -1, 1.5, Number.MAX_SAFE_INTEGER + 2, '3', 'himds', 'running', JOURNAL_ID, ''],
      2,
    ).map((value) => JSON.stringify(value) ?? ''),
    textFrom(['{', '}', '"localChangesAcknowledged"', ':', '7', ',', 'null']),
  );

/** Memory-backed when the machine has it: each input is two file writes, and a loaded disk made
 * them the cost of the whole target (4.5 ms against 0.07 ms per write and read). */
function scratchFolder(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return mkdtempSync('/dev/shm/fuzz-journal-');
  } catch {
    return mkdtempSync(join(tmpdir(), 'fuzz-journal-'));
  }
}

const changeJournal = fuzzTarget(
  'change-journal',
  'agent config/local-change-journal readLocalChangeJournal and acknowledgedLocalChanges (localconfig-changes.jsonl, himds status)',
  () => {
    const dir = scratchFolder();
    const journal = join(dir, 'localconfig-changes.jsonl');
    const status = join(dir, 'himds.status.json');
    return {
      arbitrary: fc.record({
        header: journalHeader(),
        lines: fc.array(journalLine(), { maxLength: 6 }),
        tail: fc.oneof(fc.constant(''), fc.string({ maxLength: 8 })),
        damage: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), {
          maxLength: 2,
        }),
        status: statusText(),
      }),
      check: (input: JournalInput) => {
        const text = input.lines.map((line) => `${line}\n`).join('');
        const bytes = Buffer.from(input.header + text + input.tail);
        for (const { at, byte } of input.damage) {
          if (bytes.length > 0) bytes[at % bytes.length] = byte;
        }
        writeFileSync(journal, bytes);
        writeFileSync(status, input.status);
        // Documented: a regular file the reader can open never throws; damaged lines are skipped.
        let read: { journalId: string; changes: LocalChange[] };
        try {
          read = readLocalChangeJournal(journal);
        } catch (error) {
          return `crash: ${describeError(error)}`;
        }
        if (read.journalId !== '' && read.journalId !== JOURNAL_ID) {
          return `crash: read journal id "${read.journalId}" from ${JSON.stringify(input.header)}`;
        }
        const order = orderFinding(read.changes);
        if (order !== undefined) return order;
        let acknowledged: number;
        try {
          acknowledged = acknowledgedLocalChanges(status, read.journalId);
        } catch (error) {
          return `crash: acknowledgedLocalChanges threw ${describeError(error)}`;
        }
        return Number.isSafeInteger(acknowledged) && acknowledged >= 0
          ? undefined
          : `crash: acknowledgedLocalChanges returned ${String(acknowledged)}`;
      },
      close: () => {
        rmSync(dir, { recursive: true, force: true });
        return Promise.resolve();
      },
    };
  },
);

export const LOCAL_CHANGE_TARGETS: readonly FuzzTarget[] = [heartbeatLocalChanges, changeJournal];
