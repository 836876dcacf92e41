// The append-only journal of local configuration changes: one JSON line per change, numbered per
// machine, fsynced before the change it records is made. Root writes it; HIMDS reads it. Its first
// line is its identity (`{"journalId":"<random UUID>"}`): a journal deleted and created again
// numbers from 1 again, and the id tells the control plane that these are new changes.
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { parseLocalChange, parseLocalChangeJournalId, type LocalChange } from '@tether/protocol';
import { AgentError } from '../errors.js';
import { replaceFileAtomically } from './atomic-file.js';

export type NewLocalChange = Omit<LocalChange, 'sequence'>;

export interface JournalOptions {
  /** The himds group, which may read the journal and nothing more. */
  readonly groupId: number;
  /** Acknowledged changes kept for local inspection once the journal is compacted. */
  readonly keepAcknowledged?: number;
  /** The journal is compacted when it would hold more lines than this. */
  readonly compactAbove?: number;
  /** Changes not yet acknowledged by the control plane that the journal holds at most. */
  readonly maxUnacknowledged?: number;
}

const MODE = 0o640;
const MAX_JOURNAL_BYTES = 64 * 1024 * 1024;

/** How far the control plane has stored the journal with the given id ('' for one without). */
export type Acknowledged = number | ((journalId: string) => number);

interface JournalContents {
  /** '' for a journal written before journals had an identity (it keeps having none). */
  readonly journalId: string;
  readonly changes: LocalChange[];
  /** Bytes after the last newline: a write cut short by a crash, never part of the journal. */
  readonly tornBytes: number;
  readonly exists: boolean;
}

/** The journal's changes, oldest first; [] when there is none yet. Lines that do not parse are skipped. */
export function readLocalChanges(path: string): LocalChange[] {
  return readLocalChangeJournal(path).changes;
}

/** The journal's id ('' when it has none, or there is no journal) and its changes, oldest first. */
export function readLocalChangeJournal(path: string): {
  journalId: string;
  changes: LocalChange[];
} {
  const { journalId, changes } = readJournal(path, undefined, refuseRead(path));
  return { journalId, changes };
}

/** Changes after `acknowledged` in this journal, oldest first, at most `limit` of them. */
export function unacknowledgedLocalChanges(
  path: string,
  acknowledged: Acknowledged,
  limit: number,
): { journalId: string; changes: LocalChange[]; more: boolean } {
  const { journalId, changes } = readLocalChangeJournal(path);
  const stored = sequenceIn(journalId, acknowledged);
  const pending = changes.filter((change) => change.sequence > stored);
  return { journalId, changes: pending.slice(0, limit), more: pending.length > limit };
}

function sequenceIn(journalId: string, acknowledged: Acknowledged): number {
  return typeof acknowledged === 'number' ? acknowledged : acknowledged(journalId);
}

/**
 * Numbers `changes` after the journal's last one and makes them durable; the caller holds the
 * configuration lock, so no other writer can take the same numbers. Changes up to `acknowledged`
 * have reached the control plane and may be compacted away. Throws, writing nothing, when the
 * journal cannot be trusted or is full of unacknowledged changes.
 */
export function appendLocalChanges(
  path: string,
  changes: readonly NewLocalChange[],
  acknowledgedIn: Acknowledged,
  options: JournalOptions,
): LocalChange[] {
  const trustedUid = process.geteuid?.() ?? 0;
  const journal = readJournal(path, trustedUid, refuseChange(path));
  const acknowledged = sequenceIn(journal.journalId, acknowledgedIn);
  const last = journal.changes.at(-1)?.sequence ?? 0;
  const numbered = changes.map((change, index) =>
    Object.freeze({ sequence: last + index + 1, ...change }),
  );
  if (numbered.length === 0) return [];
  const unacknowledged = journal.changes.filter((change) => change.sequence > acknowledged);
  const maxUnacknowledged = options.maxUnacknowledged ?? 10_000;
  if (unacknowledged.length + numbered.length > maxUnacknowledged) {
    throw new AgentError(
      'ERR_CONFIG_WRITE_FAILED',
      `Nothing was changed: the change journal ${path} already holds ${unacknowledged.length} changes the control plane has not acknowledged (at most ${maxUnacknowledged} are kept), and every change must be recorded. ` +
        "Start the himds service so its heartbeat reports them ('systemctl start himds'), then try again.",
      { target: path },
    );
  }
  const lines = (entries: readonly LocalChange[]): string =>
    entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
  const compactAbove = options.compactAbove ?? 1_000;
  if (!journal.exists || journal.changes.length + numbered.length > compactAbove) {
    const keep = options.keepAcknowledged ?? 100;
    const acknowledgedKept = journal.changes
      .filter((change) => change.sequence <= acknowledged)
      .slice(keep === 0 ? Infinity : -keep);
    // A new journal gets its identity; a compacted one keeps it (or keeps having none).
    const journalId = journal.exists ? journal.journalId : randomUUID();
    const header = journalId === '' ? '' : `${JSON.stringify({ journalId })}\n`;
    // The newest change always stays, so the numbering continues after compaction.
    const body = lines([...acknowledgedKept, ...unacknowledged, ...numbered]);
    replaceFileAtomically(path, header + body, {
      mode: MODE,
      ownerUid: 0,
      ownerGid: options.groupId,
    });
    return numbered;
  }
  appendDurably(path, journal.tornBytes, lines(numbered), options.groupId);
  return numbered;
}

function appendDurably(path: string, tornBytes: number, text: string, groupId: number): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_NOFOLLOW);
  try {
    const size = fstatSync(fd).size;
    // A torn last line is the record of a change that was never made (the journal is written
    // first): it is dropped, so the new line starts on a line of its own.
    if (tornBytes > 0) ftruncateSync(fd, size - tornBytes);
    const bytes = Buffer.from(text, 'utf8');
    let offset = 0;
    while (offset < bytes.length) {
      offset += writeSync(fd, bytes, offset, bytes.length - offset, size - tornBytes + offset);
    }
    fchmodSync(fd, MODE);
    if (process.geteuid?.() === 0) fchownSync(fd, 0, groupId);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

type Fail = (why: string, cause?: unknown) => never;

/** With `trustedUid`, a journal anyone else could have written is refused (fail closed). */
function readJournal(path: string, trustedUid: number | undefined, fail: Fail): JournalContents {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted in its place must not hang the reader.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { journalId: '', changes: [], tornBytes: 0, exists: false };
    fail(
      code === 'ELOOP' ? 'it is a symbolic link' : `it cannot be opened (${code ?? String(error)})`,
      error,
    );
  }
  let bytes: Buffer;
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) fail('it is not a regular file');
    if (trustedUid !== undefined && stat.uid !== 0 && stat.uid !== trustedUid) {
      fail(`it is owned by uid ${stat.uid}, not root`);
    }
    if (trustedUid !== undefined && (stat.mode & 0o022) !== 0) {
      fail('it is writable by users other than its owner');
    }
    if (stat.size > MAX_JOURNAL_BYTES) fail(`it is larger than ${MAX_JOURNAL_BYTES} bytes`);
    bytes = readFileSync(fd);
  } finally {
    closeSync(fd);
  }
  const end = bytes.lastIndexOf(0x0a) + 1;
  const changes: LocalChange[] = [];
  const lines = bytes.subarray(0, end).toString('utf8').split('\n');
  const journalId = journalIdOf(lines[0] ?? '');
  for (const line of journalId === '' ? lines : lines.slice(1)) {
    if (line === '') continue;
    try {
      const change = parseLocalChange(JSON.parse(line));
      // Numbers only grow; a line that breaks the order is not trusted to number what follows.
      if (change.sequence > (changes.at(-1)?.sequence ?? 0)) changes.push(change);
    } catch {
      // A damaged line is skipped; the lines around it still count.
    }
  }
  return { journalId, changes, tornBytes: bytes.length - end, exists: true };
}

/** The id a journal's first line names; '' when that line is anything else. */
function journalIdOf(line: string): string {
  try {
    const value = JSON.parse(line) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return '';
    const keys = Object.keys(value);
    if (keys.length !== 1 || keys[0] !== 'journalId') return '';
    return parseLocalChangeJournalId((value as { journalId: unknown }).journalId);
  } catch {
    return '';
  }
}

function refuseChange(path: string): Fail {
  return (why, cause) => {
    throw new AgentError(
      'ERR_CONFIG_WRITE_FAILED',
      `Nothing was changed: the change journal ${path} cannot be used, because ${why}. ` +
        `Every change is recorded there first; move it aside (sudo mv ${path} ${path}.damaged) and try again.`,
      { target: path, ...(cause === undefined ? {} : { cause }) },
    );
  };
}

function refuseRead(path: string): Fail {
  return (why, cause) => {
    throw new AgentError('ERR_CONFIG_CORRUPT', `Cannot read the change journal ${path}: ${why}.`, {
      target: path,
      ...(cause === undefined ? {} : { cause }),
    });
  };
}
