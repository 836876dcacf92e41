// The protocol versions and cipher suites `tether server` accepts: TLS 1.2 and 1.3 only, and for
// TLS 1.2 only forward-secret AEAD suites (ECDHE with AES-GCM or ChaCha20-Poly1305).
import type { SecureContextOptions, TlsOptions } from 'node:tls';

// No CBC suites (padding-oracle history) and no RSA key exchange (no forward secrecy). ECDSA
// suites serve the generated P-256 certificate; RSA ones serve a provided RSA certificate.
const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-CHACHA20-POLY1305',
];
// Named explicitly so the list above cannot silently drop TLS 1.3 (every 1.3 suite is AEAD).
const TLS13_SUITES = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
];

export const SERVER_TLS_OPTIONS: Readonly<
  Pick<
    TlsOptions & SecureContextOptions,
    'minVersion' | 'maxVersion' | 'ciphers' | 'honorCipherOrder'
  >
> = Object.freeze({
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  ciphers: [...TLS13_SUITES, ...TLS12_CIPHERS].join(':'),
  honorCipherOrder: true,
});
