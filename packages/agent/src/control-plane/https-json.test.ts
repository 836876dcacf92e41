// The agent's calls to the control plane trust only the CA that `--ca-cert` saved: a server whose
// certificate the process's default trust store accepts is still refused when another CA is
// pinned. Run in a child process whose default store is extended through NODE_EXTRA_CA_CERTS.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTestTls, type TestTls } from '../test-support/test-tls.js';

const HTTPS_JSON = new URL('./https-json.js', import.meta.url).href;
const HTTPS_BYTES = new URL('../extensions/service/https-request.js', import.meta.url).href;

// Each call prints "ok <status>" or "error <code> <cause code>".
const CHILD = `
const [kind, url] = process.argv.slice(1);
const ca = process.env.PINNED_CA || undefined;
const route = { kind: 'direct', why: 'no proxy' };
const run = kind === 'json'
  ? (await import(${JSON.stringify(HTTPS_JSON)})).httpsJson({ method: 'GET', url, route, ca })
  : (await import(${JSON.stringify(HTTPS_BYTES)})).httpsBytes({ method: 'GET', url, route, ca, token: 't',
      accept: '*/*', timeoutMs: 5000, deadlineMs: 5000, maxBytes: 1000 });
try { console.log('ok ' + (await run).status); }
catch (e) { console.log('error ' + e.code + ' ' + e.cause?.code); }
`;

function callFromChild(
  kind: 'json' | 'bytes',
  url: string,
  extraCaFile: string,
  pinned: string | undefined,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', CHILD, kind, url],
      { env: { ...process.env, NODE_EXTRA_CA_CERTS: extraCaFile, PINNED_CA: pinned ?? '' } },
      (error, stdout) =>
        error === null ? resolve(stdout.trim()) : reject(new Error(error.message)),
    );
  });
}

void describe('agent HTTPS calls pin the saved CA', () => {
  let dir: string;
  let served: TestTls;
  let other: TestTls;
  let server: Server;
  let url: string;
  const extraCaFile = (): string => join(dir, 'extra-ca.crt');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-pin-'));
    served = makeTestTls();
    other = makeTestTls();
    writeFileSync(extraCaFile(), served.caCert);
    server = createServer({ key: served.serverKey, cert: served.serverCert }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const kind of ['json', 'bytes'] as const) {
    void it(`${kind}: refuses a server the default store trusts when another CA is pinned`, async () => {
      // Without a pinned CA the default store (extended with the server's CA) applies...
      assert.equal(await callFromChild(kind, url, extraCaFile(), undefined), 'ok 200');
      // ...with one, only it does: the same server is refused.
      assert.match(
        await callFromChild(kind, url, extraCaFile(), other.caCert),
        /^error ERR_UNREACHABLE (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/,
      );
      assert.equal(await callFromChild(kind, url, extraCaFile(), served.caCert), 'ok 200');
    });
  }
});
