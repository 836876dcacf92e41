// What in-process tests need to act as a machine's agent: the configuration a heartbeat
// reports, a machine key, and a token for the machine identity through the real token endpoint
// with a client assertion signed by that key.
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { importPKCS8, SignJWT } from 'jose';
import {
  TEST_PUBLIC_URL,
  type Answer,
  type TestControlPlane,
} from '../../server/testing/test-control-plane.js';
import { keyIdOf } from '../client-public-key.js';

export interface MachineKey {
  privateKey: KeyObject;
  /** base64 SubjectPublicKeyInfo DER: the machine's `clientPublicKey`. */
  spki: string;
  kid: string;
}

export function newMachineKey(): MachineKey {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return { privateKey, spki: der.toString('base64'), kid: keyIdOf(der) };
}

/** The token endpoint's answer to the machine identity signing in with `key`. */
export async function requestMachineToken(
  cp: TestControlPlane,
  principalId: string,
  key: MachineKey,
): Promise<Answer> {
  const endpoint = `${TEST_PUBLIC_URL}/${cp.tenantId}/oauth2/v2.0/token`;
  const now = Math.floor(cp.clock.now() / 1000);
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: key.kid })
    .setIssuer(principalId)
    .setSubject(principalId)
    .setAudience(endpoint)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 600)
    .sign(
      await importPKCS8(
        key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        'ES256',
      ),
    );
  return cp.request('POST', `/${cp.tenantId}/oauth2/v2.0/token`, {
    form: {
      grant_type: 'client_credentials',
      client_id: principalId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      scope: `${TEST_PUBLIC_URL}/.default`,
    },
  });
}

/**
 * Creates machine `name` in resource group `group` (its path) with a new key, as an owner, and
 * signs its identity in: the machine's token and principal id.
 */
export async function onboardMachine(
  cp: TestControlPlane,
  group: string,
  name: string,
  ownerToken: string,
): Promise<{ token: string; principalId: string }> {
  const key = newMachineKey();
  const put = await cp.request(
    'PUT',
    `${group}/providers/Microsoft.HybridCompute/machines/${name}?api-version=2024-07-10`,
    {
      token: ownerToken,
      body: {
        location: 'westeurope',
        identity: { type: 'SystemAssigned' },
        properties: { clientPublicKey: key.spki, osName: 'linux' },
      },
    },
  );
  if (put.status !== 201) throw new Error(`PUT ${name}: ${put.status} ${JSON.stringify(put.body)}`);
  const principalId = (put.body['identity'] as { principalId: string }).principalId;
  const token = await requestMachineToken(cp, principalId, key);
  if (token.status !== 200) throw new Error(`token of ${name}: ${JSON.stringify(token.body)}`);
  return { token: String(token.body['access_token']), principalId };
}
