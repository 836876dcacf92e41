// The change journal: numbered appends readable by the himds group only, compaction of what the
// control plane acknowledged, a torn last line left by a crash, and refusals that write nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { makeTempRoot, type TempRoot } from '../test-support/temp-root.js';
import {
  appendLocalChanges,
  readLocalChangeJournal,
  readLocalChanges,
  unacknowledgedLocalChanges,
  type NewLocalChange,
} from './local-change-journal.js';

let temp: TempRoot;
let journal: string;
const groupId = process.getgid?.() ?? 0;

beforeEach(() => {
  temp = makeTempRoot();
  mkdirSync(temp.paths.dataDir, { recursive: true });
  journal = temp.paths.localChangeJournal;
});
afterEach(() => temp.remove());

const change = (newValue: string): NewLocalChange => ({
  time: '2026-12-02T10:00:00.000Z',
  uid: 0,
  userName: 'root',
  property: 'extensions.allowlist',
  oldValue: '[]',
  newValue,
});

function appendMany(count: number, acknowledged: number, options = {}): void {
  for (let i = 0; i < count; i += 1) {
    appendLocalChanges(journal, [change(`[A.B/C${i}]`)], acknowledged, { groupId, ...options });
  }
}

void describe('the local change journal', () => {
  void test('numbers changes from 1 without gaps, one JSON line each after its id, mode 0640', () => {
    const first = appendLocalChanges(journal, [change('[A.B/C]')], 0, { groupId });
    const next = appendLocalChanges(journal, [change('[X.Y/Z]'), change('[]')], 0, { groupId });
    assert.deepEqual(
      [...first, ...next].map((c) => c.sequence),
      [1, 2, 3],
    );
    assert.equal(statSync(journal).mode & 0o777, 0o640);
    const lines = readFileSync(journal, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 4);
    const { journalId } = JSON.parse(lines[0] ?? '') as { journalId: string };
    assert.match(
      journalId,
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    assert.deepEqual(JSON.parse(lines[2] ?? ''), { sequence: 2, ...change('[X.Y/Z]') });
    assert.deepEqual(readLocalChanges(journal), [...first, ...next]);
    assert.equal(readLocalChangeJournal(journal).journalId, journalId);
  });

  void test('no journal yet reads as no changes', () => {
    assert.deepEqual(readLocalChanges(journal), []);
    assert.deepEqual(unacknowledgedLocalChanges(journal, 0, 10), {
      journalId: '',
      changes: [],
      more: false,
    });
  });

  void test('unacknowledged changes come oldest first, at most the limit', () => {
    appendMany(7, 0);
    const { changes, more } = unacknowledgedLocalChanges(journal, 2, 3);
    assert.deepEqual(
      changes.map((c) => c.sequence),
      [3, 4, 5],
    );
    assert.equal(more, true);
    assert.equal(unacknowledgedLocalChanges(journal, 4, 3).more, false);
  });

  void test('compaction drops acknowledged changes beyond those kept, never unacknowledged ones', () => {
    const options = { compactAbove: 10, keepAcknowledged: 2 };
    appendMany(10, 0, options);
    // The control plane has stored 1-6; the next append compacts.
    appendLocalChanges(journal, [change('[N.E/W]')], 6, { groupId, ...options });
    assert.deepEqual(
      readLocalChanges(journal).map((c) => c.sequence),
      [5, 6, 7, 8, 9, 10, 11],
    );
    assert.equal(statSync(journal).mode & 0o777, 0o640);
  });

  void test('numbering continues after everything acknowledged was compacted away', () => {
    const options = { compactAbove: 3, keepAcknowledged: 0 };
    appendMany(3, 0, options);
    appendLocalChanges(journal, [change('[N.E/W]')], 3, { groupId, ...options });
    assert.deepEqual(
      readLocalChanges(journal).map((c) => c.sequence),
      [4],
    );
    appendLocalChanges(journal, [change('[]')], 4, { groupId, ...options });
    assert.deepEqual(
      readLocalChanges(journal).map((c) => c.sequence),
      [4, 5],
    );
  });

  void test('a line torn by a crash is not a change, and the next append drops it', () => {
    appendMany(2, 0);
    appendFileSync(journal, '{"sequence":3,"time":"2026-12-02T1');
    assert.deepEqual(
      readLocalChanges(journal).map((c) => c.sequence),
      [1, 2],
    );
    appendLocalChanges(journal, [change('[A.F/TER]')], 0, { groupId });
    const lines = readFileSync(journal, 'utf8').split('\n');
    assert.equal(lines.length, 5, 'the id, three whole lines and nothing after the last newline');
    assert.deepEqual(
      readLocalChanges(journal).map((c) => [c.sequence, c.newValue]),
      [
        [1, '[A.B/C0]'],
        [2, '[A.B/C1]'],
        [3, '[A.F/TER]'],
      ],
    );
  });

  void test('a journal deleted and started again has a new id, so its numbering is told apart', () => {
    appendMany(3, 0);
    const old = readLocalChangeJournal(journal).journalId;
    rmSync(journal);
    // Acknowledged up to 3 in the old journal: nothing of the new one is.
    const acknowledged = (id: string): number => (id === old ? 3 : 0);
    appendLocalChanges(journal, [change('[N.E/W]')], acknowledged, { groupId });
    const fresh = unacknowledgedLocalChanges(journal, acknowledged, 10);
    assert.notEqual(fresh.journalId, old);
    assert.notEqual(fresh.journalId, '');
    assert.deepEqual(
      fresh.changes.map((c) => [c.sequence, c.newValue]),
      [[1, '[N.E/W]']],
    );
  });

  void test('compaction keeps the id; a journal written without one keeps having none', () => {
    const options = { compactAbove: 3, keepAcknowledged: 1 };
    appendMany(3, 0, options);
    const id = readLocalChangeJournal(journal).journalId;
    appendLocalChanges(journal, [change('[N.E/W]')], 3, { groupId, ...options });
    assert.equal(readLocalChangeJournal(journal).journalId, id);
    assert.deepEqual(
      readLocalChanges(journal).map((c) => c.sequence),
      [3, 4],
    );

    // A journal from before journals had an id: its acknowledgement counts as the empty id's.
    const lines = readFileSync(journal, 'utf8').split('\n').slice(1).join('\n');
    writeFileSync(journal, lines, { mode: 0o640 });
    const seen: string[] = [];
    appendLocalChanges(journal, [change('[]')], (journalId) => (seen.push(journalId), 4), {
      groupId,
      ...options,
      compactAbove: 2,
    });
    assert.deepEqual(seen, ['']);
    assert.equal(readLocalChangeJournal(journal).journalId, '');
    assert.deepEqual(
      readLocalChanges(journal).map((c) => c.sequence),
      [4, 5],
    );
  });

  void test('only the first line names the journal; an id line elsewhere is a damaged line', () => {
    appendMany(1, 0);
    appendFileSync(journal, `${JSON.stringify({ journalId: randomUUID() })}\n`);
    appendMany(1, 0);
    const first = readLocalChangeJournal(journal);
    assert.deepEqual(
      first.changes.map((c) => c.sequence),
      [1, 2],
    );
    assert.equal(
      (JSON.parse(readFileSync(journal, 'utf8').split('\n')[0] ?? '') as { journalId: string })
        .journalId,
      first.journalId,
    );
  });

  void test('a damaged line is skipped; the changes around it still count', () => {
    appendMany(1, 0);
    appendFileSync(journal, 'not json\n');
    appendMany(1, 0);
    assert.deepEqual(
      readLocalChanges(journal).map((c) => c.sequence),
      [1, 2],
    );
  });

  void test('too many unacknowledged changes: the change is refused and nothing is written', () => {
    appendMany(3, 0, { maxUnacknowledged: 3 });
    const before = readFileSync(journal, 'utf8');
    assert.throws(
      () => appendLocalChanges(journal, [change('[]')], 0, { groupId, maxUnacknowledged: 3 }),
      /Nothing was changed: the change journal .* already holds 3 changes the control plane has not acknowledged.*Start the himds service/,
    );
    assert.equal(readFileSync(journal, 'utf8'), before);
    // Once the control plane has them, there is room again.
    appendLocalChanges(journal, [change('[]')], 3, { groupId, maxUnacknowledged: 3 });
  });

  void test('a journal others can write, or a link in its place, is refused (fail closed)', () => {
    appendMany(1, 0);
    chmodSync(journal, 0o666);
    assert.throws(
      () => appendLocalChanges(journal, [change('[]')], 0, { groupId }),
      /cannot be used, because it is writable by users other than its owner.*move it aside/,
    );
    chmodSync(journal, 0o640);
    const elsewhere = join(temp.root, 'elsewhere.jsonl');
    writeFileSync(elsewhere, '');
    const linked = join(temp.paths.dataDir, 'linked.jsonl');
    symlinkSync(elsewhere, linked);
    assert.throws(
      () => appendLocalChanges(linked, [change('[]')], 0, { groupId }),
      /cannot be used, because it is a symbolic link/,
    );
    assert.equal(readFileSync(elsewhere, 'utf8'), '');
  });
});
