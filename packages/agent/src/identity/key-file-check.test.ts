// The key-file check names the file, the problem and the fix.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { keyFileProblem } from './key-file-check.js';

void test('wrong mode, wrong owner, a symlink and a missing file are each reported with a fix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keycheck-'));
  try {
    const me = { uid: process.geteuid?.() ?? 0, name: 'me' };
    const key = join(dir, 'machine.key');
    writeFileSync(key, 'x');
    chmodSync(key, 0o600);
    assert.equal(keyFileProblem(key, me), undefined);
    chmodSync(key, 0o644);
    assert.match(keyFileProblem(key, me) ?? '', /mode 0644, not 0600.*chmod 600/);
    chmodSync(key, 0o600);
    assert.match(keyFileProblem(key, { uid: me.uid + 1, name: 'himds' }) ?? '', /not himds.*chown/);
    symlinkSync(key, join(dir, 'link'));
    assert.match(keyFileProblem(join(dir, 'link'), me) ?? '', /symbolic link/);
    assert.match(keyFileProblem(join(dir, 'none'), me) ?? '', /does not exist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
