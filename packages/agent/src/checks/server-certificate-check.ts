// Judges the certificate the control plane served: a weak key or signature, or an expiry that is
// near (warn) or past (fail) by the agent's clock, is reported before it breaks the connection.
import type { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import type { CheckResult } from './check.js';

const DAY_MS = 86_400_000;
export const EXPIRY_WARNING_MS = 30 * DAY_MS;
const MIN_RSA_BITS = 2048;

// Signature algorithms whose hash is broken for certificates (collisions can be forged).
const WEAK_SIGNATURES: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.4': 'MD5 with RSA',
  '1.2.840.113549.1.1.5': 'SHA-1 with RSA',
  '1.2.840.10045.4.1': 'ECDSA with SHA-1',
  '1.2.840.10040.4.3': 'DSA with SHA-1',
};

const base = { id: 'server-certificate', title: 'Control plane certificate is strong and current' };

export function serverCertificateCheck(
  certificate: X509Certificate | undefined,
  nowMs: number,
): CheckResult {
  if (certificate === undefined) {
    return { ...base, status: 'unknown', detail: 'Unknown: no certificate was seen.' };
  }
  const notAfter = Date.parse(certificate.validTo);
  const expiry = new Date(notAfter).toISOString();
  if (notAfter <= nowMs) {
    return {
      ...base,
      status: 'fail',
      detail: `The control plane's certificate expired at ${expiry}; the agent cannot connect until the control plane serves a renewed one.`,
    };
  }
  const weaknesses: string[] = [];
  const key = certificate.publicKey.asymmetricKeyDetails;
  if (
    certificate.publicKey.asymmetricKeyType === 'rsa' &&
    (key?.modulusLength ?? 0) < MIN_RSA_BITS
  ) {
    weaknesses.push(
      `an RSA key of ${key?.modulusLength ?? 0} bits (at least ${MIN_RSA_BITS} needed)`,
    );
  }
  const oid = AsnConvert.parse(certificate.raw, Certificate).signatureAlgorithm.algorithm;
  const weakSignature = WEAK_SIGNATURES[oid];
  if (weakSignature !== undefined) weaknesses.push(`a ${weakSignature} signature`);
  const days = Math.floor((notAfter - nowMs) / DAY_MS);
  if (notAfter - nowMs < EXPIRY_WARNING_MS) {
    weaknesses.push(`an expiry in ${days} days (${expiry})`);
  }
  if (weaknesses.length > 0) {
    return {
      ...base,
      status: 'warn',
      detail: `The control plane's certificate has ${weaknesses.join(' and ')}; have it reissued (ECDSA P-256 or RSA of ${MIN_RSA_BITS} bits or more, signed with SHA-256 or better) before it expires.`,
    };
  }
  return { ...base, status: 'pass', detail: `Valid until ${expiry} (${days} days).` };
}
