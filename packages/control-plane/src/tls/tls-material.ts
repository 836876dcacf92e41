// The server's TLS identity when none is given: a CA made once in `<data-dir>/tls/` (its
// certificate is all a client needs, through NODE_EXTRA_CA_CERTS) and a server certificate it
// signs, reissued when a name is missing or expiry is near.
//
// ECDSA P-256 for both: every full TLS handshake makes the server sign, and a P-256 signature
// costs a fraction of an RSA-2048 one; every TLS client Tether targets (Node's OpenSSL, curl,
// browsers) accepts it, and keys and certificates stay small.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import type { Clock } from '../clock.js';
import {
  createCertificate,
  generateKeyPair,
  importKeyPair,
  privateKeyPem,
  type KeyPair,
} from './certificate-factory.js';
import { ensurePrivateDir, readIfExists, writeFileAtomically } from './private-files.js';

const DAY_MS = 86_400_000;
const CA_LIFETIME_MS = 10 * 365 * DAY_MS;
const SERVER_LIFETIME_MS = 365 * DAY_MS;
/** Reissue the server certificate when less than this is left. */
export const SERVER_RENEW_BEFORE_MS = 30 * DAY_MS;
/** Tolerates clients whose clock is a little behind when a certificate is brand new. */
const BACKDATE_MS = 60 * 60 * 1000;

export interface TlsMaterial {
  key: string;
  cert: string;
  /** Path of the CA certificate clients should trust; undefined for a certificate brought by the operator. */
  caCertPath: string | undefined;
  notAfter: number;
}

export function tlsPaths(dir: string) {
  return {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
  };
}

/** Creates what is missing, reissues the server certificate when needed, and returns it. */
export async function ensureTlsMaterial(
  dir: string,
  names: readonly string[],
  clock: Clock,
): Promise<TlsMaterial> {
  const paths = tlsPaths(dir);
  await ensurePrivateDir(dir);
  const ca = await ensureCa(paths, clock);
  const [certPem, keyPem] = await Promise.all([
    readIfExists(paths.serverCert),
    readIfExists(paths.serverKey),
  ]);
  if (
    certPem !== undefined &&
    keyPem !== undefined &&
    serverCertificateFits(certPem, ca.certificate, names, clock.now())
  ) {
    return { key: keyPem, cert: certPem, caCertPath: paths.caCert, notAfter: notAfterOf(certPem) };
  }
  const now = clock.now();
  const key = await generateKeyPair('ec-p256');
  const certificate = await createCertificate({
    subject: `CN=${names[0] ?? 'localhost'}, O=Tether`,
    key,
    issuer: ca,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + SERVER_LIFETIME_MS),
    subjectAltNames: names,
    extendedKeyUsages: ['serverAuth'],
  });
  const material = {
    key: await privateKeyPem(key),
    cert: pemFile(certificate),
    caCertPath: paths.caCert,
    notAfter: certificate.notAfter.getTime(),
  };
  // Key first: a certificate on disk always has its key beside it.
  await writeFileAtomically(paths.serverKey, material.key, 0o600);
  await writeFileAtomically(paths.serverCert, material.cert, 0o644);
  return material;
}

/**
 * The server certificate and key another process keeps in `dir`, read without writing
 * anything; undefined while either is missing or they do not belong together (read between
 * the writes of a renewal).
 */
export async function readTlsMaterial(dir: string): Promise<TlsMaterial | undefined> {
  const paths = tlsPaths(dir);
  const [certPem, keyPem] = await Promise.all([
    readIfExists(paths.serverCert),
    readIfExists(paths.serverKey),
  ]);
  if (certPem === undefined || keyPem === undefined) return undefined;
  try {
    if (!new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem))) return undefined;
  } catch {
    return undefined;
  }
  return { key: keyPem, cert: certPem, caCertPath: paths.caCert, notAfter: notAfterOf(certPem) };
}

async function ensureCa(
  paths: ReturnType<typeof tlsPaths>,
  clock: Clock,
): Promise<{ certificate: x509.X509Certificate; key: KeyPair }> {
  const [certPem, keyPem] = await Promise.all([
    readIfExists(paths.caCert),
    readIfExists(paths.caKey),
  ]);
  if (certPem !== undefined && keyPem !== undefined) {
    const certificate = new x509.X509Certificate(certPem);
    return { certificate, key: await importKeyPair('ec-p256', keyPem, certificate) };
  }
  const now = clock.now();
  const key = await generateKeyPair('ec-p256');
  const certificate = await createCertificate({
    subject: `CN=Tether CA ${new Date(now).toISOString().slice(0, 10)}, O=Tether`,
    key,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + CA_LIFETIME_MS),
    isCa: true,
  });
  await writeFileAtomically(paths.caKey, await privateKeyPem(key), 0o600);
  await writeFileAtomically(paths.caCert, pemFile(certificate), 0o644);
  return { certificate, key };
}

/**
 * A certificate's PEM ending in a newline, as every PEM tool writes it: administrators join the
 * CA file into bundles (`cat ca.crt >> bundle.pem`), which breaks on a missing final newline.
 */
function pemFile(certificate: x509.X509Certificate): string {
  return `${certificate.toString('pem').trimEnd()}\n`;
}

/** Reused only if the current CA signed it, it names every host, and expiry is not near. */
function serverCertificateFits(
  pem: string,
  ca: x509.X509Certificate,
  names: readonly string[],
  now: number,
): boolean {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch {
    return false;
  }
  const caCertificate = new X509Certificate(ca.toString('pem'));
  if (!certificate.checkIssued(caCertificate) || !certificate.verify(caCertificate.publicKey))
    return false;
  if (Date.parse(certificate.validTo) - now < SERVER_RENEW_BEFORE_MS) return false;
  return names.every((name) =>
    isIP(name) !== 0
      ? certificate.checkIP(name) !== undefined
      : certificate.checkHost(name) !== undefined,
  );
}

function notAfterOf(pem: string): number {
  return Date.parse(new X509Certificate(pem).validTo);
}
