// Directory rows as Microsoft Graph shows them (`/v1.0` objects). Secrets and their hashes
// never appear here; only the one addPassword answer carries a secret.
import type { CredentialRow, PrincipalRow } from '../identity/credential-store.js';

interface CredentialObject {
  keyId: string;
  displayName: string;
  startDateTime: string;
  endDateTime: string;
}

export interface PasswordCredentialObject extends CredentialObject {
  /** The secret's first three characters. */
  hint: string | null;
}

export interface KeyCredentialObject extends CredentialObject {
  type: 'AsymmetricX509Cert';
  usage: 'Verify';
  /** The certificate's `x5t#S256` thumbprint. */
  customKeyIdentifier: string;
}

function credentialObject(row: CredentialRow): CredentialObject {
  return {
    keyId: row.id,
    displayName: row.display_name,
    startDateTime: row.starts_at,
    endDateTime: row.expires_at,
  };
}

export function passwordCredentialObject(row: CredentialRow): PasswordCredentialObject {
  return { ...credentialObject(row), hint: row.secret_hint };
}

export function keyCredentialObject(row: CredentialRow): KeyCredentialObject {
  return {
    ...credentialObject(row),
    type: 'AsymmetricX509Cert',
    usage: 'Verify',
    customKeyIdentifier: row.thumbprint_s256 ?? '',
  };
}

export function servicePrincipalObject(
  principal: PrincipalRow,
  credentials: readonly CredentialRow[],
) {
  return {
    '@odata.type': '#microsoft.graph.servicePrincipal',
    id: principal.id,
    appId: principal.app_id,
    displayName: principal.display_name,
    servicePrincipalNames: principal.app_id === null ? [] : [principal.app_id],
    servicePrincipalType: principal.machine_id === null ? 'Application' : 'ManagedIdentity',
    createdDateTime: principal.created_at,
    replyUrls: replyUrlList(principal.reply_urls),
    passwordCredentials: credentials
      .filter((c) => c.kind === 'password')
      .map(passwordCredentialObject),
    keyCredentials: credentials.filter((c) => c.kind === 'certificate').map(keyCredentialObject),
  };
}

export function userObject(principal: PrincipalRow) {
  return {
    '@odata.type': '#microsoft.graph.user',
    id: principal.id,
    displayName: principal.display_name,
    userPrincipalName: principal.user_principal_name,
    createdDateTime: principal.created_at,
  };
}

export function groupObject(principal: PrincipalRow) {
  return {
    '@odata.type': '#microsoft.graph.group',
    id: principal.id,
    displayName: principal.display_name,
    description: principal.description,
    securityEnabled: true,
    createdDateTime: principal.created_at,
  };
}

/** A group member, whatever kind of principal it is. */
export function memberObject(principal: PrincipalRow) {
  switch (principal.type) {
    case 'User':
      return userObject(principal);
    case 'Group':
      return groupObject(principal);
    case 'ServicePrincipal':
      return {
        '@odata.type': '#microsoft.graph.servicePrincipal',
        id: principal.id,
        appId: principal.app_id,
        displayName: principal.display_name,
      };
  }
}

function replyUrlList(stored: string | null): string[] {
  if (stored === null) return [];
  try {
    const parsed = JSON.parse(stored) as unknown;
    return Array.isArray(parsed) ? parsed.filter((u): u is string => typeof u === 'string') : [];
  } catch {
    return [];
  }
}
