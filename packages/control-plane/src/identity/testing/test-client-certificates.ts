// Client certificates and client assertions for tests, made the way a client library makes
// them (self-signed certificate; JWT with `x5t#S256`, aud, iss = sub = client id, jti).
import {
  createHash,
  createPrivateKey,
  randomUUID,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import {
  createCertificate,
  generateKeyPair,
  privateKeyPem,
  type KeyKind,
} from '../../tls/certificate-factory.js';

export interface TestClientCertificate {
  pem: string;
  privateKey: KeyObject;
  thumbprintS256: string;
  thumbprintSha1: string;
}

export async function createTestClientCertificate(options: {
  kind?: KeyKind;
  notBefore: Date;
  notAfter: Date;
}): Promise<TestClientCertificate> {
  const key = await generateKeyPair(options.kind ?? 'rsa-2048');
  const certificate = await createCertificate({
    subject: `CN=test-client-${randomUUID().slice(0, 8)}`,
    key,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    extendedKeyUsages: ['clientAuth'],
  });
  const pem = certificate.toString('pem');
  const der = new X509Certificate(pem).raw;
  return {
    pem,
    privateKey: createPrivateKey(await privateKeyPem(key)),
    thumbprintS256: createHash('sha256').update(der).digest('base64url'),
    thumbprintSha1: createHash('sha1').update(der).digest('base64url'),
  };
}

export interface AssertionOptions {
  certificate: TestClientCertificate;
  clientId: string;
  audience: string;
  /** Seconds since the epoch the assertion is issued at. */
  now: number;
  alg?: 'RS256' | 'PS256' | 'ES256';
  /** Replaces the default thumbprint header (`x5t#S256`). */
  header?: Record<string, string>;
  claims?: JWTPayload;
  lifetimeSeconds?: number;
  /** Signs with this key instead of the certificate's. */
  signWith?: KeyObject;
}

export function signTestAssertion(options: AssertionOptions): Promise<string> {
  const alg = options.alg ?? 'RS256';
  return new SignJWT({ jti: randomUUID(), ...options.claims })
    .setProtectedHeader({
      alg,
      typ: 'JWT',
      ...(options.header ?? { 'x5t#S256': options.certificate.thumbprintS256 }),
    })
    .setIssuer(options.clientId)
    .setSubject(options.clientId)
    .setAudience(options.audience)
    .setNotBefore(options.now)
    .setExpirationTime(options.now + (options.lifetimeSeconds ?? 600))
    .sign(options.signWith ?? options.certificate.privateKey);
}
