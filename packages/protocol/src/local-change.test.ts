// The local changes a heartbeat carries are validated strictly: well-formed ones pass unchanged,
// every malformed field is named, and a batch out of order or too large is refused whole.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MAX_LOCAL_CHANGES_PER_HEARTBEAT,
  parseLocalChangeJournalId,
  parseLocalChanges,
  type LocalChange,
} from './local-change.js';
import type { TetherError } from './tether-error.js';

const valid: LocalChange = {
  sequence: 7,
  time: '2026-12-02T23:50:00.123Z',
  uid: 0,
  userName: 'root',
  sudoUid: 1000,
  property: 'extensions.allowlist',
  oldValue: '[]',
  newValue: '[Microsoft.Azure.Monitor/AzureMonitorLinuxAgent]',
};

const change = (overrides: Record<string, unknown>): Record<string, unknown> => ({
  ...valid,
  ...overrides,
});

void describe('parseLocalChanges', () => {
  void test('accepts well-formed changes, with and without the optional user fields', () => {
    const minimal = { sequence: 8, time: valid.time, uid: 1001, property: '*' };
    const parsed = parseLocalChanges(
      JSON.parse(JSON.stringify([valid, { ...minimal, oldValue: '(damaged)', newValue: '' }])),
    );
    assert.deepEqual(parsed, [valid, { ...minimal, oldValue: '(damaged)', newValue: '' }]);
    assert.deepEqual(parseLocalChanges([]), []);
  });

  const broken: [string, unknown, RegExp][] = [
    ['not an array', { 0: valid }, /localChanges must be an array/],
    ['an entry that is not an object', [null], /\[0\] must be a JSON object/],
    ['an unknown field', [change({ extra: 1 })], /\[0\]\.extra is not a known local change field/],
    ['a missing sequence', [change({ sequence: undefined })], /\[0\]\.sequence must be a whole/],
    ['sequence 0', [change({ sequence: 0 })], /\[0\]\.sequence must be a whole number from 1/],
    ['a fractional sequence', [change({ sequence: 1.5 })], /sequence must be a whole number/],
    ['a sequence as a string', [change({ sequence: '7' })], /sequence must be a whole number/],
    ['a negative uid', [change({ uid: -1 })], /\[0\]\.uid must be a whole number from 0/],
    ['uid (uid_t)-1', [change({ uid: 4294967295 })], /uid must be a whole number from 0 to/],
    ['a sudoUid as a string', [change({ sudoUid: '1000' })], /\[0\]\.sudoUid must be a whole/],
    ['a local time', [change({ time: '2026-12-02T23:50:00+01:00' })], /\[0\]\.time is "2026/],
    ['an impossible date', [change({ time: '2026-13-45T00:00:00Z' })], /\[0\]\.time is/],
    ['an upper-case property', [change({ property: 'Extensions.AllowList' })], /\[0\]\.property/],
    ['a property with a path', [change({ property: '../etc' })], /not a configuration property/],
    ['a user name with a space', [change({ userName: 'a b' })], /\[0\]\.userName is "a b"/],
    ['a value with a newline', [change({ newValue: 'a\nb' })], /newValue contains a control/],
    ['a missing old value', [change({ oldValue: undefined })], /\[0\]\.oldValue must be a string/],
    [
      'a value that is too long',
      [change({ oldValue: 'x'.repeat(8193) })],
      /oldValue is 8193 characters long; at most 8192/,
    ],
    [
      'sequences out of order',
      [change({ sequence: 9 }), change({ sequence: 8 })],
      /\[1\]\.sequence is 8 after 9; changes must be sent oldest first/,
    ],
    [
      'a sequence sent twice',
      [change({ sequence: 9 }), change({ sequence: 9 })],
      /\[1\]\.sequence is 9 after 9/,
    ],
    [
      'more than one heartbeat carries',
      Array.from({ length: MAX_LOCAL_CHANGES_PER_HEARTBEAT + 1 }, (_, i) =>
        change({ sequence: i + 1 }),
      ),
      /holds 26 changes; at most 25/,
    ],
  ];
  for (const [name, value, message] of broken) {
    void test(`refuses ${name}, naming the field`, () => {
      assert.throws(
        () => parseLocalChanges(value),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'ERR_INVALID_LOCAL_CHANGE');
          assert.match(error.message, /^Invalid local change: /);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }
});

void describe('parseLocalChangeJournalId', () => {
  void test('a lower-case UUID, or nothing for a journal without an id', () => {
    const id = '2f4c8a1e-6b3d-4e7f-9a0c-1d2e3f4a5b6c';
    assert.equal(parseLocalChangeJournalId(id), id);
    assert.equal(parseLocalChangeJournalId(undefined), '');
    assert.equal(parseLocalChangeJournalId(null), '');
  });

  void test('anything else is refused, naming the field', () => {
    for (const bad of ['', 'x', id().toUpperCase(), `${id()}\n`, 42, {}, [id()]]) {
      assert.throws(
        () => parseLocalChangeJournalId(bad),
        (error: TetherError) =>
          error.code === 'ERR_INVALID_LOCAL_CHANGE' &&
          error.target === 'localChangesJournal' &&
          /localChangesJournal is .*, not a journal id/.test(error.message),
        JSON.stringify(bad),
      );
    }
  });
});

function id(): string {
  return '2f4c8a1e-6b3d-4e7f-9a0c-1d2e3f4a5b6c';
}
