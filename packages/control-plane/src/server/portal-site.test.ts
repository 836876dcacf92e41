// The portal's static files: security headers on every answer, compressed bodies, the one-page
// app's routes, config.json, and refusal of a folder that holds no portal.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { brotliDecompressSync } from 'node:zlib';
import { PortalSite } from './portal-site.js';

const CONFIG = {
  apiUrl: 'https://tether.test:8443',
  tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  clientId: '7e1a7b4c-3f0d-4b6e-9c52-1d8f0a6e2b94',
  portalUrl: 'https://tether.test:8444',
};

void describe('portal site', () => {
  let dir: string;
  let server: Server;
  let base: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tether-portal-site-'));
    writeFileSync(
      join(dir, 'index.html'),
      '<!doctype html><script type="module" src="/app-ABCDEFGH.js"></script>',
    );
    writeFileSync(join(dir, 'app-ABCDEFGH.js'), 'console.log("portal");'.repeat(50));
    writeFileSync(join(dir, 'notes.md'), 'not served');
    const site = PortalSite.load(dir, CONFIG);
    server = createServer((request, response) => site.handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  void it('sends a strict policy: script from itself only, calls and forms to the API only', async () => {
    const answer = await fetch(`${base}/`);
    assert.equal(answer.status, 200);
    const csp = answer.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self';/);
    assert.match(csp, /connect-src 'self' https:\/\/tether\.test:8443;/);
    assert.match(csp, /form-action https:\/\/tether\.test:8443;/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe/);
    assert.equal(answer.headers.get('x-frame-options'), 'DENY');
    assert.equal(answer.headers.get('x-content-type-options'), 'nosniff');
    assert.match(answer.headers.get('strict-transport-security') ?? '', /max-age=31536000/);
    assert.equal(answer.headers.get('cache-control'), 'no-cache');
  });

  void it('serves the app for its own routes, hashed files for a year, and 404 otherwise', async () => {
    const page = await fetch(`${base}/machines/sub/rg/web-01`);
    assert.match(await page.text(), /app-ABCDEFGH\.js/);
    const script = await fetch(`${base}/app-ABCDEFGH.js`);
    assert.match(script.headers.get('content-type') ?? '', /javascript/);
    assert.match(script.headers.get('cache-control') ?? '', /immutable/);
    assert.equal((await fetch(`${base}/notes.md`)).status, 404);
    assert.equal((await fetch(`${base}/missing.js`)).status, 404);
    assert.equal((await fetch(`${base}/`, { method: 'POST' })).status, 405);
  });

  void it('compresses with brotli when the browser takes it', async () => {
    const raw = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve) => {
      void import('node:http').then(({ get }) =>
        get(`${base}/app-ABCDEFGH.js`, { headers: { 'accept-encoding': 'gzip, br' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }),
          );
        }),
      );
    });
    assert.equal(raw.encoding, 'br');
    assert.equal(brotliDecompressSync(raw.body).toString(), 'console.log("portal");'.repeat(50));
  });

  void it('tells the portal where the API is and which client it signs in as', async () => {
    assert.deepEqual(await (await fetch(`${base}/config.json`)).json(), CONFIG);
  });

  void it('refuses a folder without index.html, naming the flag', () => {
    const empty = mkdtempSync(join(tmpdir(), 'tether-portal-empty-'));
    try {
      assert.throws(() => PortalSite.load(empty, CONFIG), /--portal-dir .* holds no index\.html/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
