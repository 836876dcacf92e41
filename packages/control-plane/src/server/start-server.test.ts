// `startServer` in process: HTTPS with the generated CA on an ephemeral port, discovery on the
// URL actually bound, one server per data directory, and a clear refusal when uninitialized.
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isTetherError } from '@tether/protocol';
import { systemClock } from '../clock.js';
import { openDatabase } from '../store/open-database.js';
import { dataDirPaths, ensureDataDir } from './data-dir.js';
import { initializeInstallation, type Installation } from './initialize-installation.js';
import { startServer, type RunningServer, type ServerOptions } from './start-server.js';

function get(url: string, ca: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }),
      );
    })
      .on('error', reject)
      .end();
  });
}

void describe('startServer', () => {
  let root: string;
  let installation: Installation;
  let running: RunningServer;
  const options = (dataDir: string): ServerOptions => ({
    dataDir,
    listen: { host: '127.0.0.1', port: 0 },
    subjectAltNames: [],
    keyRotationMs: 86_400_000,
    clock: systemClock,
    logLevel: 'error',
  });

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tether-server-'));
    const paths = dataDirPaths(join(root, 'data'));
    await ensureDataDir(paths);
    const db = await openDatabase({ kind: 'sqlite', file: paths.database });
    installation = await initializeInstallation(db, systemClock);
    await db.destroy();
    running = await startServer(options(paths.root));
  });
  after(async () => {
    await running.close();
    await rm(root, { recursive: true, force: true });
  });

  void it('serves discovery over HTTPS, trusted through the generated CA, for the bound URL', async () => {
    assert.match(running.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = await readFile(join(root, 'data', 'tls', 'ca.crt'), 'utf8');
    const answer = await get(
      `${running.url}/${installation.tenantId}/v2.0/.well-known/openid-configuration`,
      ca,
    );
    assert.equal(answer.status, 200);
    assert.equal(answer.body['issuer'], `${running.url}/${installation.tenantId}/v2.0`);
    await assert.rejects(
      get(`${running.url}/${installation.tenantId}/discovery/v2.0/keys`, ''),
      /self-signed|unable to verify|certificate/i,
    );
  });

  void it('refuses a second server on the same data directory', async () => {
    await assert.rejects(startServer(options(join(root, 'data'))), (error: unknown) => {
      assert.ok(isTetherError(error));
      assert.equal(error.code, 'ERR_STORE_IN_USE');
      return true;
    });
  });

  void it('refuses to start on a directory `tether init` never set up, creating nothing', async () => {
    const empty = join(root, 'empty');
    await assert.rejects(startServer(options(empty)), (error: unknown) => {
      assert.ok(isTetherError(error));
      assert.equal(error.code, 'ERR_NOT_INITIALIZED');
      assert.match(error.message, /tether init --data-dir/);
      return true;
    });
    await assert.rejects(readFile(join(empty, 'tether.db')));
  });
});
