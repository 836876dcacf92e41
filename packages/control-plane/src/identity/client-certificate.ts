// Certificates registered as service-principal credentials: parsed from PEM (or the base64
// DER Microsoft Graph sends), limited to key types a client assertion can be signed with, and
// named by the thumbprints clients put in `x5t#S256` (SHA-256) or `x5t` (SHA-1).
import { X509Certificate, createHash } from 'node:crypto';
import { TetherError } from '@tether/protocol';

export interface ClientCertificate {
  certificate: X509Certificate;
  /** The certificate as PEM, as stored. */
  pem: string;
  thumbprintS256: string;
  thumbprintSha1: string;
  notBefore: number;
  notAfter: number;
}

export class CertificateError extends TetherError<'ERR_CERTIFICATE'> {}

export function parseClientCertificate(text: string): ClientCertificate {
  let certificate: X509Certificate;
  try {
    const trimmed = text.trim();
    certificate = new X509Certificate(
      trimmed.startsWith('-----BEGIN') ? trimmed : Buffer.from(trimmed, 'base64'),
    );
  } catch (cause) {
    throw new CertificateError(
      'ERR_CERTIFICATE',
      'the key is not a readable X.509 certificate: expected a PEM certificate (-----BEGIN CERTIFICATE-----) or its base64 DER',
      { cause, target: 'key' },
    );
  }
  checkKeyType(certificate);
  const der = certificate.raw;
  return {
    certificate,
    pem: certificate.toString(),
    thumbprintS256: createHash('sha256').update(der).digest('base64url'),
    thumbprintSha1: createHash('sha1').update(der).digest('base64url'),
    notBefore: Date.parse(certificate.validFrom),
    notAfter: Date.parse(certificate.validTo),
  };
}

function checkKeyType(certificate: X509Certificate): void {
  const key = certificate.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  const rsaOk = key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048;
  const ecOk =
    key.asymmetricKeyType === 'ec' &&
    ['prime256v1', 'secp384r1', 'secp521r1'].includes(details.namedCurve ?? '');
  if (!rsaOk && !ecOk) {
    throw new CertificateError(
      'ERR_CERTIFICATE',
      `the certificate's ${key.asymmetricKeyType ?? 'unknown'} public key is not accepted: expected RSA of at least 2048 bits or EC P-256/P-384/P-521`,
      { target: 'key' },
    );
  }
}
