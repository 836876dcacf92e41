// Who the change journal names: the real uid of this process with its account name, and the
// uid sudo reports only when it is a plausible uid.
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { describe, test } from 'node:test';
import { currentLocalActor } from './local-actor.js';

void describe('currentLocalActor', () => {
  void test('is the real uid of this process with its account name', () => {
    assert.deepEqual(currentLocalActor({}), {
      uid: process.getuid?.(),
      userName: userInfo().username,
    });
  });

  const sudo: [string, number | undefined][] = [
    ['1000', 1000],
    ['0', 0],
    ['', undefined],
    ['1000abc', undefined],
    ['-1', undefined],
    ['4294967295', undefined],
    ['99999999999', undefined],
  ];
  for (const [value, expected] of sudo) {
    void test(`SUDO_UID "${value}" is ${expected === undefined ? 'left out' : `recorded as ${expected}`}`, () => {
      assert.equal(currentLocalActor({ SUDO_UID: value }).sudoUid, expected);
      assert.equal(currentLocalActor({ SUDO_UID: value }).uid, process.getuid?.());
    });
  }
});
