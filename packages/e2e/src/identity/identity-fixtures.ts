// What the identity end-to-end tests set up through the real API: service principals with a
// secret or a certificate (written to a PEM file with its key, as ClientCertificateCredential
// reads it), and the input of the identity-credential client.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestClientCertificate } from '@tether/control-plane/identity/testing/test-client-certificates';
import type { ControlPlane } from '../harness/index.js';

export const MANAGEMENT_SCOPE = 'https://management.azure.com/.default';
const DAY_MS = 86_400_000;

export interface CredentialAnswer {
  ok: boolean;
  tokens: { scope: string; token: string; expiresOnTimestamp: number }[];
  call?: {
    status: number;
    wwwAuthenticate?: string;
    body: { error?: { code: string; message: string } } | null;
  };
  error?: { name: string; message: string };
}

export async function createServicePrincipal(
  plane: ControlPlane,
  displayName: string,
): Promise<{ id: string; appId: string }> {
  const created = await plane.admin.call('POST', '/v1.0/servicePrincipals', {
    body: { displayName },
  });
  if (created.status !== 201) throw new Error(`create failed: ${JSON.stringify(created.body)}`);
  return { id: String(created.body['id']), appId: String(created.body['appId']) };
}

export async function addPassword(
  plane: ControlPlane,
  principalId: string,
): Promise<{ keyId: string; secret: string }> {
  const added = await plane.admin.call(
    'POST',
    `/v1.0/servicePrincipals/${principalId}/addPassword`,
    { body: {} },
  );
  if (added.status !== 200) throw new Error(`addPassword failed: ${JSON.stringify(added.body)}`);
  return { keyId: String(added.body['keyId']), secret: String(added.body['secretText']) };
}

/** Registers a new certificate and writes certificate + private key to one PEM file. */
export async function addCertificate(
  plane: ControlPlane,
  principalId: string,
): Promise<{ keyId: string; pemPath: string }> {
  const now = Date.now();
  const certificate = await createTestClientCertificate({
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 30 * DAY_MS),
  });
  const added = await plane.admin.call('POST', `/v1.0/servicePrincipals/${principalId}/addKey`, {
    body: { keyCredential: { displayName: 'e2e', key: certificate.pem } },
  });
  if (added.status !== 200) throw new Error(`addKey failed: ${JSON.stringify(added.body)}`);
  const pemPath = join(plane.dataDir, '..', `client-${principalId}.pem`);
  const keyPem = certificate.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  // Key first: msal-node hands the whole file to createPrivateKey, which reads the first block.
  await writeFile(pemPath, `${keyPem}${certificate.pem}`, { mode: 0o600 });
  return { keyId: String(added.body['keyId']), pemPath };
}

export function credentialInput(
  plane: ControlPlane,
  clientId: string,
  proof: { clientSecret: string } | { certificatePath: string },
  scopes: readonly string[] = [MANAGEMENT_SCOPE],
  call: string | undefined = `${plane.url}/v1.0/servicePrincipals`,
): string {
  return JSON.stringify({
    authorityHost: `${plane.url}/`,
    tenantId: plane.tenantId,
    clientId,
    ...proof,
    scopes,
    ...(call === undefined ? {} : { call }),
  });
}
