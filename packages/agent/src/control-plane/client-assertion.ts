// Client-assertion JWTs for the token endpoint: the machine's (ES256, kid = SPKI hash) and a
// service principal certificate's (RS256/PS256/ES256 with x5t#S256), signed by jose.
import { createHash, randomUUID, X509Certificate, createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { AgentError } from '../errors.js';

export interface AssertionInput {
  readonly clientId: string;
  readonly tokenEndpoint: string;
  readonly key: KeyObject;
  readonly alg: 'ES256' | 'RS256' | 'PS256';
  readonly header: Readonly<Record<string, string>>;
  /** Seconds since the epoch, from the injected clock. */
  readonly nowSeconds: number;
}

/** Valid for 5 minutes: the protocol allows at most 10. */
export function signClientAssertion(input: AssertionInput): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ ...input.header, alg: input.alg, typ: 'JWT' })
    .setIssuer(input.clientId)
    .setSubject(input.clientId)
    .setAudience(input.tokenEndpoint)
    .setJti(randomUUID())
    .setIssuedAt(input.nowSeconds)
    .setNotBefore(input.nowSeconds)
    .setExpirationTime(input.nowSeconds + 300)
    .sign(input.key);
}

export interface CertificateCredential {
  readonly key: KeyObject;
  readonly alg: 'ES256' | 'RS256';
  readonly thumbprintS256: string;
}

/** A PEM file holding a private key and its certificate, as `--service-principal-cert` takes. */
export function parseCertificatePem(pem: string, file: string): CertificateCredential {
  const certMatch = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  const keyMatch =
    /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC )?PRIVATE KEY-----/.exec(
      pem,
    );
  if (certMatch === null || keyMatch === null) {
    throw new AgentError(
      'ERR_INVALID_VALUE',
      `--service-principal-cert ${file} must hold both a PEM private key and its PEM certificate.`,
      { target: 'service-principal-cert' },
    );
  }
  try {
    const certificate = new X509Certificate(certMatch[0]);
    const key = createPrivateKey(keyMatch[0]);
    if (!certificate.checkPrivateKey(key))
      throw new Error('the key does not belong to the certificate');
    const alg = key.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
    const thumbprintS256 = createHash('sha256').update(certificate.raw).digest('base64url');
    return { key, alg, thumbprintS256 };
  } catch (error) {
    throw new AgentError(
      'ERR_INVALID_VALUE',
      `--service-principal-cert ${file} cannot be used: ${(error as Error).message}.`,
      { target: 'service-principal-cert', cause: error },
    );
  }
}
