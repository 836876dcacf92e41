// What `tether server` negotiates: real handshakes against the started server. Old protocol
// versions and CBC or RSA-key-exchange suites are refused; the same clients are shown to work
// against a permissive server, so a refusal is the server's choice and not the client's.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { connect, type ConnectionOptions } from 'node:tls';
import { systemClock } from '../clock.js';
import { openDatabase } from '../store/open-database.js';
import { dataDirPaths, ensureDataDir } from './data-dir.js';
import { initializeInstallation } from './initialize-installation.js';
import { startServer, type RunningServer } from './start-server.js';

interface Negotiated {
  protocol: string | null;
  cipher: string;
}

async function startOn(
  dataDir: string,
  tls?: { certFile: string; keyFile: string },
): Promise<RunningServer> {
  const paths = dataDirPaths(dataDir);
  await ensureDataDir(paths);
  const db = await openDatabase({ kind: 'sqlite', file: paths.database });
  await initializeInstallation(db, systemClock);
  await db.destroy();
  return startServer({
    dataDir: paths.root,
    listen: { host: '127.0.0.1', port: 0 },
    subjectAltNames: [],
    keyRotationMs: 86_400_000,
    clock: systemClock,
    logLevel: 'error',
    tls,
  });
}

/** A permissive HTTPS server for the same certificate: proves a refused client can connect at all. */
async function permissiveServer(key: string, cert: string): Promise<Server> {
  const server = createServer({ key, cert, minVersion: 'TLSv1', ciphers: 'ALL@SECLEVEL=0' });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const portOf = (server: Server): number => (server.address() as AddressInfo).port;

function handshake(port: number, options: ConnectionOptions): Promise<Negotiated> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: undefined, ...options }, () => {
      const result = { protocol: socket.getProtocol(), cipher: socket.getCipher().name };
      socket.end();
      resolve(result);
    });
    socket.on('error', reject);
  });
}

// Clients that only speak what the server must refuse. SECLEVEL=0 lets this client offer
// TLS 1.1 at all; `rejectUnauthorized: false` keeps certificate checks out of the question.
const LEGACY_CLIENTS: ReadonlyArray<[string, ConnectionOptions]> = [
  ['TLS 1.1', { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }],
  [
    'TLS 1.2 with CBC suites only',
    {
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256',
    },
  ],
];

void describe('tether server TLS', () => {
  let root: string;
  let running: RunningServer;
  let port: number;
  let ca: string;
  let permissive: Server;
  let permissivePort: number;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tether-tls-'));
    const paths = dataDirPaths(join(root, 'data'));
    running = await startOn(paths.root);
    port = Number(new URL(running.url).port);
    ca = await readFile(join(paths.tls, 'ca.crt'), 'utf8');
    // The same certificate and key behind Node's most permissive settings: the control.
    const [key, cert] = await Promise.all([
      readFile(join(paths.tls, 'server.key'), 'utf8'),
      readFile(join(paths.tls, 'server.crt'), 'utf8'),
    ]);
    permissive = await permissiveServer(key, cert);
    permissivePort = portOf(permissive);
  });
  after(async () => {
    permissive.close();
    await running.close();
    await rm(root, { recursive: true, force: true });
  });

  for (const [name, client] of LEGACY_CLIENTS) {
    void it(`refuses a client offering only ${name}`, async () => {
      const options = { ...client, rejectUnauthorized: false };
      await handshake(permissivePort, options); // the client can connect to a server that allows it
      await assert.rejects(handshake(port, options), /alert|protocol|cipher|handshake/i);
    });
  }

  void it('accepts TLS 1.3 and TLS 1.2 with ECDHE and an AEAD cipher, verified through its CA', async () => {
    const tls13 = await handshake(port, { ca });
    assert.equal(tls13.protocol, 'TLSv1.3');
    for (const cipher of ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305']) {
      const tls12 = await handshake(port, { ca, maxVersion: 'TLSv1.2', ciphers: cipher });
      assert.deepEqual(tls12, { protocol: 'TLSv1.2', cipher });
    }
  });
});

void describe('tether server TLS with a provided RSA certificate', () => {
  let root: string;
  let running: RunningServer;
  let permissive: Server;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tether-tls-rsa-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'rsa.key',
        '-out',
        'rsa.crt',
      ].concat(['-subj', '/CN=127.0.0.1', '-days', '2', '-addext', 'subjectAltName=IP:127.0.0.1']),
      { cwd: root, stdio: 'ignore' },
    );
    const certFile = join(root, 'rsa.crt');
    const keyFile = join(root, 'rsa.key');
    running = await startOn(join(root, 'data'), { certFile, keyFile });
    permissive = await permissiveServer(
      await readFile(keyFile, 'utf8'),
      await readFile(certFile, 'utf8'),
    );
  });
  after(async () => {
    permissive.close();
    await running.close();
    await rm(root, { recursive: true, force: true });
  });

  void it('refuses a client offering only RSA key exchange, and accepts ECDHE-RSA with AES-GCM', async () => {
    const port = Number(new URL(running.url).port);
    const rsaKeyExchange = {
      maxVersion: 'TLSv1.2',
      ciphers: 'AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA',
      rejectUnauthorized: false,
    } as const;
    await handshake(portOf(permissive), rsaKeyExchange);
    await assert.rejects(handshake(port, rsaKeyExchange), /alert|handshake|cipher/i);
    const cipher = 'ECDHE-RSA-AES128-GCM-SHA256';
    const modern = { maxVersion: 'TLSv1.2', ciphers: cipher, rejectUnauthorized: false } as const;
    assert.deepEqual(await handshake(port, modern), { protocol: 'TLSv1.2', cipher });
  });
});
