// A stand-in for an agent in tests: its own P-256 key, the PUT body that onboards it and the
// client assertion (`kid` header) that gets its tokens. Only node:crypto and jose.
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { keyIdOf } from '../client-public-key.js';

export class TestMachineAgent {
  private constructor(
    readonly privateKey: KeyObject,
    /** base64 SPKI DER, as `properties.clientPublicKey` carries it. */
    readonly spki: string,
    readonly kid: string,
  ) {}

  static create(): TestMachineAgent {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = publicKey.export({ format: 'der', type: 'spki' });
    return new TestMachineAgent(privateKey, der.toString('base64'), keyIdOf(der));
  }

  onboardingBody(): Record<string, unknown> {
    return {
      location: 'westeurope',
      identity: { type: 'SystemAssigned' },
      properties: { clientPublicKey: this.spki, osName: 'linux', agentVersion: '1.0' },
    };
  }

  /** The token request form for `principalId` at `tokenEndpoint`, signed at `nowMs`. */
  async tokenForm(
    principalId: string,
    tokenEndpoint: string,
    scope: string,
    nowMs: number,
  ): Promise<Record<string, string>> {
    const now = Math.floor(nowMs / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: this.kid })
      .setIssuer(principalId)
      .setSubject(principalId)
      .setAudience(tokenEndpoint)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 600)
      .sign(this.privateKey);
    return {
      grant_type: 'client_credentials',
      client_id: principalId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      scope,
    };
  }
}
