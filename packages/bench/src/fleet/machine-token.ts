// The token request of a simulated machine: a client assertion signed with its own key, as the
// agent sends it to the token endpoint.
import { randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SimulatedMachine } from './fleet-protocol.js';

/** The client-credentials form that asks `publicUrl` for a token of `machine`. */
export async function machineTokenForm(
  machine: SimulatedMachine,
  key: KeyObject,
  publicUrl: string,
  tenantId: string,
): Promise<Record<string, string>> {
  const audience = `${publicUrl}/${tenantId}/oauth2/v2.0/token`;
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: machine.kid })
    .setIssuer(machine.principalId)
    .setSubject(machine.principalId)
    .setAudience(audience)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 600)
    .sign(key);
  return {
    grant_type: 'client_credentials',
    client_id: machine.principalId,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
    scope: `${publicUrl}/.default`,
  };
}
