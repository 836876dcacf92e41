// The change journal: numbered appends readable by the himds group only, compaction of what the
// control plane acknowledged, a torn last line left by a crash, and refusals that write nothing.
import assert from 'node:assert/strict';
import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { makeTempRoot, type TempRoot } from '../test-support/temp-root.js';
import {
  appendLocalChanges,
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
  void test('numbers changes from 1 without gaps, one JSON line each, mode 0640', () => {
    const first = appendLocalChanges(journal, [change('[A.B/C]')], 0, { groupId });
    const next = appendLocalChanges(journal, [change('[X.Y/Z]'), change('[]')], 0, { groupId });
    assert.deepEqual(
      [...first, ...next].map((c) => c.sequence),
      [1, 2, 3],
    );
    assert.equal(statSync(journal).mode & 0o777, 0o640);
    const lines = readFileSync(journal, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.deepEqual(JSON.parse(lines[1] ?? ''), { sequence: 2, ...change('[X.Y/Z]') });
    assert.deepEqual(readLocalChanges(journal), [...first, ...next]);
  });

  void test('no journal yet reads as no changes', () => {
    assert.deepEqual(readLocalChanges(journal), []);
    assert.deepEqual(unacknowledgedLocalChanges(journal, 0, 10), { changes: [], more: false });
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
    assert.equal(lines.length, 4, 'three whole lines and nothing after the last newline');
    assert.deepEqual(
      readLocalChanges(journal).map((c) => [c.sequence, c.newValue]),
      [
        [1, '[A.B/C0]'],
        [2, '[A.B/C1]'],
        [3, '[A.F/TER]'],
      ],
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
