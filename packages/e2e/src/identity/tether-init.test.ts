// `tether init` and `tether server` as a user runs them: init prints the bootstrap credentials
// once and refuses, changing nothing, to run twice; a second server on one data directory is
// refused while the first keeps serving.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startControlPlane, type ControlPlane } from '../harness/index.js';
import { TETHER_BIN } from '../harness/programs.js';

function tether(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TETHER_BIN, ...args],
      { timeout: 30_000 },
      (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        });
      },
    );
  });
}

async function snapshot(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return Promise.all(
    entries.sort().map(async (entry) => {
      const path = join(dir, String(entry));
      const info = await stat(path);
      if (info.isDirectory()) return `${String(entry)}/ ${(info.mode & 0o777).toString(8)}`;
      const hash = createHash('sha256')
        .update(await readFile(path))
        .digest('hex');
      return `${String(entry)} ${(info.mode & 0o777).toString(8)} ${hash}`;
    }),
  );
}

void describe('tether init', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tether-init-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  void it('prints the bootstrap credentials as JSON, then refuses a second run and changes nothing', async () => {
    const dataDir = join(root, 'data');
    const first = await tether(['init', '--data-dir', dataDir, '--json']);
    assert.equal(first.code, 0, first.stderr);
    const output = JSON.parse(first.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(output).sort(), [
      'appId',
      'caCert',
      'keyEncryptionKeyFile',
      'password',
      'subscriptionId',
      'tenantId',
    ]);
    assert.equal(output['caCert'], join(dataDir, 'tls', 'ca.crt'));
    assert.equal(output['keyEncryptionKeyFile'], join(dataDir, 'key-encryption.key'));
    assert.ok((output['password'] ?? '').length >= 43);
    const before = await snapshot(dataDir);
    assert.ok(
      before.some((line) => line.startsWith('tether.db 600 ')),
      before.join('\n'),
    );

    const second = await tether(['init', '--data-dir', dataDir, '--json']);
    assert.equal(second.code, 1);
    assert.equal(second.stdout, '');
    assert.match(
      second.stderr,
      /^ERROR: .* is already initialized \(tenant [0-9a-f-]+\); nothing was changed/,
    );
    assert.deepEqual(await snapshot(dataDir), before);
  });

  void it('refuses an unknown option with a usage error', async () => {
    const answer = await tether(['init', '--data-dir', join(root, 'other'), '--jsn']);
    assert.notEqual(answer.code, 0);
    assert.match(answer.stderr, /unknown option '--jsn'/);
  });
});

void describe('tether server on a data directory in use', () => {
  let plane: ControlPlane;
  before(async () => {
    plane = await startControlPlane();
  });
  after(() => plane.stop());

  void it('is refused while the first server keeps serving', async () => {
    const second = await tether(['server', '--data-dir', plane.dataDir, '--listen', '127.0.0.1:0']);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /in use by another tether process/);
    const answer = await plane.admin.call('GET', `/${plane.tenantId}/discovery/v2.0/keys`, {
      token: null,
    });
    assert.equal(answer.status, 200);
  });

  void it('refuses bad flags before touching anything', async () => {
    const answer = await tether(['server', '--data-dir', plane.dataDir, '--listen', 'localhost']);
    assert.equal(answer.code, 1);
    assert.match(answer.stderr, /--listen "localhost" is not valid: expected HOST:PORT/);
    const url = await tether([
      'server',
      '--data-dir',
      plane.dataDir,
      '--listen',
      '127.0.0.1:0',
      '--public-url',
      'http://x:1',
    ]);
    assert.match(url.stderr, /must use https/);
  });
});
