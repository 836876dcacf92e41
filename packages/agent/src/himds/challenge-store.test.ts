// The challenge file lifecycle: private file, single use, expiry, removal.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  ChallengeLimitError,
  ChallengeStore,
  CHALLENGE_LIFETIME_MS,
  CHALLENGE_LIMITS,
} from './challenge-store.js';

/** File work deferred by the store runs at once here, so each step can be checked. */
function fixture(): { dir: string; clock: { t: number; now(): number }; store: ChallengeStore } {
  const dir = mkdtempSync(join(tmpdir(), 'himds-tokens-'));
  const clock = { t: 1_000_000, now: () => clock.t };
  return { dir, clock, store: new ChallengeStore(dir, clock, (task) => task()) };
}

const keyFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.key'));

void test('a challenge file is 0640, holds >= 32 random bytes without a newline, and works once', () => {
  const { dir, store } = fixture();
  try {
    const path = store.create();
    assert.match(path, new RegExp(`^${dir}/[0-9a-f]{32}\\.key$`));
    assert.equal(statSync(path).mode & 0o777, 0o640);
    const secret = readFileSync(path, 'utf8');
    assert.ok(secret.length >= 64 && secret.length <= 4096 && !secret.endsWith('\n'));
    assert.equal(store.redeem('not-the-secret'), false);
    assert.equal(store.redeem(secret), true);
    assert.equal(existsSync(path), false, 'removed after use');
    assert.equal(store.redeem(secret), false, 'single use');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('an expired challenge is refused and its file removed', () => {
  const { dir, clock, store } = fixture();
  try {
    const path = store.create();
    const secret = readFileSync(path, 'utf8');
    clock.t += CHALLENGE_LIFETIME_MS;
    assert.equal(store.redeem(secret), false);
    assert.equal(existsSync(path), false);
    const other = store.create();
    clock.t += CHALLENGE_LIFETIME_MS + 1;
    store.sweep();
    assert.equal(existsSync(other), false);
    assert.equal(store.size, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('the next challenge file is written ahead, handed out fresh, and removed on shutdown', () => {
  const { dir, clock, store } = fixture();
  try {
    const first = store.create();
    assert.deepEqual(keyFiles(dir), [first.slice(dir.length + 1)], 'no spare before a flow ends');
    assert.equal(store.redeem(readFileSync(first, 'utf8')), true);
    const files = keyFiles(dir);
    assert.equal(files.length, 1, 'the used file gone, one spare written');
    const spare = join(dir, files[0] ?? '');
    assert.notEqual(spare, first);
    assert.equal(statSync(spare).mode & 0o777, 0o640);
    clock.t += CHALLENGE_LIFETIME_MS - 1; // the spare's lifetime has not started yet
    const second = store.create();
    assert.equal(second, spare);
    clock.t += CHALLENGE_LIFETIME_MS - 1;
    assert.equal(store.redeem(readFileSync(second, 'utf8')), true, 'live for 60 s from hand-out');
    assert.equal(keyFiles(dir).length, 1);
    store.clear();
    assert.deepEqual(keyFiles(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('with the real scheduler a used file is gone right after the answer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'himds-tokens-'));
  const store = new ChallengeStore(dir, { now: () => 1_000_000 });
  try {
    const path = store.create();
    assert.equal(store.redeem(readFileSync(path, 'utf8')), true);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(existsSync(path), false);
    assert.equal(keyFiles(dir).length, 1, 'only the spare is left');
    store.clear();
    assert.deepEqual(keyFiles(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('limits: nobody is identified below the pressure mark; past it each account gets its share, and an unidentifiable caller none', () => {
  const { dir, store } = fixture();
  try {
    let asked = 0;
    const as = (uid: number | undefined) => () => {
      asked += 1;
      return uid;
    };
    for (let i = 0; i < CHALLENGE_LIMITS.pressure; i++) store.create(as(7));
    assert.equal(asked, 0, 'ordinary flows never look the caller up');
    for (let i = 0; i < CHALLENGE_LIMITS.perCaller; i++) store.create(as(7));
    assert.throws(() => store.create(as(7)), ChallengeLimitError);
    assert.throws(() => store.create(as(undefined)), /cannot tell which local account/);
    store.create(as(8));
    assert.equal(keyFiles(dir).length, CHALLENGE_LIMITS.pressure + CHALLENGE_LIMITS.perCaller + 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('limits: no more than the total outstanding at once, whoever asks', () => {
  const { dir, store } = fixture();
  try {
    let uid = 0;
    for (let i = 0; i < CHALLENGE_LIMITS.total; i++) store.create(() => (uid += 1));
    assert.throws(() => store.create(() => 999_999), /1024 challenges are outstanding/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
