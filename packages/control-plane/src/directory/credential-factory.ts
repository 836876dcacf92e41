// New password and certificate credentials for a service principal: every credential has a
// start and an expiry, a password exists only as its hash once the answer has been sent.
import { randomUUID } from 'node:crypto';
import { generateClientSecret, hashClientSecret, secretHint } from '../identity/client-secret.js';
import { parseClientCertificate, CertificateError } from '../identity/client-certificate.js';
import type { CredentialRow } from '../identity/credential-store.js';
import { invalidInput } from './directory-error.js';

const DAY_MS = 86_400_000;
export const DEFAULT_PASSWORD_LIFETIME_MS = 365 * DAY_MS;
/** Long-lived secrets are the ones that leak; two years is Entra's portal maximum. */
export const MAX_CREDENTIAL_LIFETIME_MS = 2 * 365 * DAY_MS;

export async function newPasswordCredential(
  principalId: string,
  displayName: string,
  endMs: number,
  now: number,
): Promise<{ row: CredentialRow; secretText: string }> {
  const secretText = generateClientSecret();
  const stamp = new Date(now).toISOString();
  const row: CredentialRow = {
    id: randomUUID(),
    principal_id: principalId,
    kind: 'password',
    display_name: displayName,
    secret_hash: await hashClientSecret(secretText),
    secret_hint: secretHint(secretText),
    thumbprint_s256: null,
    thumbprint_sha1: null,
    certificate_pem: null,
    starts_at: stamp,
    expires_at: new Date(endMs).toISOString(),
    created_at: stamp,
  };
  return { row, secretText };
}

/** The credential expires at `endMs` (at most two years ahead), or with the certificate if that is sooner. */
export function newKeyCredential(
  principalId: string,
  displayName: string,
  certificateText: string,
  endMs: number | undefined,
  now: number,
): CredentialRow {
  let parsed: ReturnType<typeof parseClientCertificate>;
  try {
    parsed = parseClientCertificate(certificateText);
  } catch (error) {
    if (error instanceof CertificateError)
      throw invalidInput('keyCredential.key', `'keyCredential.key' ${error.message}.`);
    throw error;
  }
  if (parsed.notAfter <= now) {
    throw invalidInput(
      'keyCredential.key',
      `'keyCredential.key': the certificate expired at ${new Date(parsed.notAfter).toISOString()}; register a current certificate.`,
    );
  }
  const expires = Math.min(endMs ?? now + MAX_CREDENTIAL_LIFETIME_MS, parsed.notAfter);
  return {
    id: randomUUID(),
    principal_id: principalId,
    kind: 'certificate',
    display_name: displayName,
    secret_hash: null,
    secret_hint: null,
    thumbprint_s256: parsed.thumbprintS256,
    thumbprint_sha1: parsed.thumbprintSha1,
    certificate_pem: parsed.pem,
    starts_at: new Date(Math.max(now, parsed.notBefore)).toISOString(),
    expires_at: new Date(expires).toISOString(),
    created_at: new Date(now).toISOString(),
  };
}
