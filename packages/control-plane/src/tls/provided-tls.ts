// A certificate and key the operator brings (`--tls-cert`, `--tls-key`): read, checked to be a
// pair and current, and read again on each renewal check so replaced files take effect.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { TetherError } from '@tether/protocol';
import type { Clock } from '../clock.js';
import type { TlsMaterial } from './tls-material.js';

export class TlsError extends TetherError<'ERR_TLS'> {}

export async function loadProvidedTls(
  certFile: string,
  keyFile: string,
  clock: Clock,
): Promise<TlsMaterial> {
  const [cert, key] = await Promise.all([
    readPem(certFile, '--tls-cert'),
    readPem(keyFile, '--tls-key'),
  ]);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (cause) {
    throw new TlsError('ERR_TLS', `--tls-cert ${certFile} is not a PEM certificate`, {
      cause,
      target: '--tls-cert',
    });
  }
  let matches: boolean;
  try {
    matches = certificate.checkPrivateKey(createPrivateKey(key));
  } catch (cause) {
    throw new TlsError(
      'ERR_TLS',
      `--tls-key ${keyFile} is not a readable, unencrypted PEM private key`,
      { cause, target: '--tls-key' },
    );
  }
  if (!matches) {
    throw new TlsError(
      'ERR_TLS',
      `--tls-key ${keyFile} is not the private key of the certificate in ${certFile}`,
      { target: '--tls-key' },
    );
  }
  const notAfter = Date.parse(certificate.validTo);
  if (notAfter <= clock.now()) {
    throw new TlsError(
      'ERR_TLS',
      `--tls-cert ${certFile} expired at ${certificate.validTo}; replace it`,
      { target: '--tls-cert' },
    );
  }
  return { cert, key, caCertPath: undefined, notAfter };
}

async function readPem(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    throw new TlsError('ERR_TLS', `${flag} ${path} cannot be read: ${(cause as Error).message}`, {
      cause,
      target: flag,
    });
  }
}
