// Key pairs and X.509 certificates, made with @peculiar/x509 over Node's WebCrypto: a CA,
// certificates it signs (server or client), and self-signed ones for tests and clients.
import { X509Certificate, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto);

export type KeyKind = 'ec-p256' | 'rsa-2048';

const ALGORITHMS: Record<KeyKind, webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams> = {
  'ec-p256': { name: 'ECDSA', namedCurve: 'P-256' },
  'rsa-2048': {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
  },
};

export interface KeyPair {
  kind: KeyKind;
  keys: CryptoKeyPair;
}

export interface CertificateSpec {
  /** Distinguished name, e.g. `CN=Tether CA`. */
  subject: string;
  key: KeyPair;
  notBefore: Date;
  notAfter: Date;
  /** The CA that signs; omitted for a self-signed certificate. */
  issuer?: { certificate: x509.X509Certificate; key: KeyPair };
  isCa?: boolean;
  /** DNS names and IP addresses; IPs are recognised by their form. */
  subjectAltNames?: readonly string[];
  extendedKeyUsages?: readonly ('serverAuth' | 'clientAuth')[];
}

export async function generateKeyPair(kind: KeyKind): Promise<KeyPair> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHMS[kind], true, ['sign', 'verify']);
  return { kind, keys };
}

export async function createCertificate(spec: CertificateSpec): Promise<x509.X509Certificate> {
  const signer = spec.issuer?.key ?? spec.key;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(
      spec.isCa === true,
      spec.isCa === true ? 0 : undefined,
      true,
    ),
    new x509.KeyUsagesExtension(
      spec.isCa === true
        ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
        : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(spec.key.keys.publicKey),
  ];
  if (spec.issuer !== undefined) {
    extensions.push(
      await x509.AuthorityKeyIdentifierExtension.create(spec.issuer.key.keys.publicKey),
    );
  }
  if (spec.subjectAltNames !== undefined && spec.subjectAltNames.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        spec.subjectAltNames.map((name) => ({
          type: isIpAddress(name) ? 'ip' : 'dns',
          value: name,
        })),
      ),
    );
  }
  if (spec.extendedKeyUsages !== undefined) {
    extensions.push(
      new x509.ExtendedKeyUsageExtension(
        spec.extendedKeyUsages.map((u) => x509.ExtendedKeyUsage[u]),
      ),
    );
  }
  return x509.X509CertificateGenerator.create({
    // Positive 16-byte serial: unique without a counter.
    serialNumber: `01${randomBytes(15).toString('hex')}`,
    subject: spec.subject,
    issuer: spec.issuer?.certificate.subject ?? spec.subject,
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    signingAlgorithm: signingAlgorithm(signer.kind),
    publicKey: spec.key.keys.publicKey,
    signingKey: signer.keys.privateKey,
    extensions,
  });
}

export async function privateKeyPem(key: KeyPair): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', key.keys.privateKey);
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
}

/** Reads back a key written by privateKeyPem, for signing more certificates with it. */
export async function importKeyPair(
  kind: KeyKind,
  privatePem: string,
  certificate: x509.X509Certificate,
): Promise<KeyPair> {
  const der = x509.PemConverter.decodeFirst(privatePem);
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, ALGORITHMS[kind], false, [
    'sign',
  ]);
  const spki = new X509Certificate(Buffer.from(certificate.rawData)).publicKey.export({
    type: 'spki',
    format: 'der',
  });
  const publicKey = await webcrypto.subtle.importKey('spki', spki, ALGORITHMS[kind], true, [
    'verify',
  ]);
  return { kind, keys: { privateKey, publicKey } };
}

function signingAlgorithm(kind: KeyKind): webcrypto.Algorithm | webcrypto.EcdsaParams {
  return kind === 'ec-p256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
}

function isIpAddress(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(':');
}
