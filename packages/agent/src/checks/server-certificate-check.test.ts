// The server certificate check on certificates made by openssl: weak RSA keys and SHA-1
// signatures warn, a near expiry warns, a past one fails, and a sound certificate passes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { serverCertificateCheck } from './server-certificate-check.js';

const DAY_MS = 86_400_000;

function selfSigned(keyArgs: readonly string[], digest: string, days: number): X509Certificate {
  const dir = mkdtempSync(join(tmpdir(), 'agent-cert-check-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        ...keyArgs,
        '-nodes',
        `-${digest}`,
        '-keyout',
        'k.pem',
        '-out',
        'c.pem',
      ].concat(['-subj', '/CN=control plane', '-days', String(days)]),
      { cwd: dir, stdio: 'ignore' },
    );
    return new X509Certificate(readFileSync(join(dir, 'c.pem')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];

void describe('serverCertificateCheck', () => {
  const sound = selfSigned(EC, 'sha256', 365);
  const start = Date.parse(sound.validFrom);

  const cases: ReadonlyArray<[string, X509Certificate, number, string, RegExp]> = [
    ['an ECDSA P-256 SHA-256 certificate far from expiry', sound, start, 'pass', /Valid until/],
    [
      'an RSA-2048 SHA-256 one',
      selfSigned(['-newkey', 'rsa:2048'], 'sha256', 365),
      start,
      'pass',
      /Valid until/,
    ],
    [
      'an RSA-1024 key',
      selfSigned(['-newkey', 'rsa:1024'], 'sha256', 365),
      start,
      'warn',
      /RSA key of 1024 bits/,
    ],
    [
      'a SHA-1 signature',
      selfSigned(['-newkey', 'rsa:2048'], 'sha1', 365),
      start,
      'warn',
      /SHA-1 with RSA signature/,
    ],
    ['an ECDSA SHA-1 signature', selfSigned(EC, 'sha1', 365), start, 'warn', /ECDSA with SHA-1/],
    ['29 days left', sound, Date.parse(sound.validTo) - 29 * DAY_MS, 'warn', /expiry in 29 days/],
    ['31 days left', sound, Date.parse(sound.validTo) - 31 * DAY_MS, 'pass', /\(31 days\)/],
    ['a past expiry', sound, Date.parse(sound.validTo) + 1000, 'fail', /expired at/],
  ];
  for (const [name, certificate, now, status, detail] of cases) {
    void it(`${status}s for ${name}`, () => {
      const result = serverCertificateCheck(certificate, now);
      assert.equal(result.status, status, result.detail);
      assert.match(result.detail, detail);
    });
  }
});
