// The challenge file lifecycle: private file, single use, expiry, removal.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ChallengeStore, CHALLENGE_LIFETIME_MS } from './challenge-store.js';

function fixture(): { dir: string; clock: { t: number; now(): number }; store: ChallengeStore } {
  const dir = mkdtempSync(join(tmpdir(), 'himds-tokens-'));
  const clock = { t: 1_000_000, now: () => clock.t };
  return { dir, clock, store: new ChallengeStore(dir, clock) };
}

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
