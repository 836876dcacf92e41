// Tokens for the machine identity, by client assertion signed with the machine key, cached per
// audience until 5 minutes before they expire (a quarter of their life for short-lived ones): the
// agent's own calls and HIMDS callers share it.
import { isTetherError } from '@tether/protocol';
import type { Clock } from '../clock.js';
import { requestToken, type AccessToken } from '../control-plane/token-client.js';
import type { MachineKey } from '../identity/machine-key.js';
import type { Egress } from '../network/egress.js';

const REFRESH_MARGIN_MS = 5 * 60_000;

/** A token of an hour is renewed 5 minutes early; one of a minute, 15 seconds early. */
function refreshMargin(token: AccessToken): number {
  const lifetime = token.expiresAt - (token.obtainedAt ?? Number.NEGATIVE_INFINITY);
  return Math.min(REFRESH_MARGIN_MS, lifetime / 4);
}

export interface MachineIdentity {
  readonly endpoint: string;
  readonly tenantId: string;
  readonly principalId: string;
  readonly ca: string | undefined;
  readonly egress: Egress;
}

export class MachineTokenSource {
  private readonly cache = new Map<string, AccessToken>();
  private readonly pending = new Map<string, Promise<AccessToken>>();

  constructor(
    private readonly identity: MachineIdentity,
    private key: MachineKey,
    private readonly clock: Clock,
  ) {}

  get currentKey(): MachineKey {
    return this.key;
  }

  /** After a rotation the cached tokens stay valid; new ones are asked for with the new key. */
  useKey(key: MachineKey): void {
    this.key = key;
  }

  forget(): void {
    this.cache.clear();
  }

  async token(resource: string): Promise<AccessToken> {
    const audience = resource.replace(/\/+$/, '');
    const cached = this.cache.get(audience);
    if (cached !== undefined && cached.expiresAt - refreshMargin(cached) > this.clock.now())
      return cached;
    // One request per audience at a time, however many callers wait for it.
    let inFlight = this.pending.get(audience);
    if (inFlight === undefined) {
      inFlight = this.fetch(audience).finally(() => this.pending.delete(audience));
      this.pending.set(audience, inFlight);
    }
    return inFlight;
  }

  private async fetch(audience: string): Promise<AccessToken> {
    let token: AccessToken;
    try {
      token = await this.request(audience);
    } catch (error) {
      // The machine is refused: what was cached for other audiences must not outlive that.
      if (isTetherError(error) && error.code === 'ERR_AUTH_FAILED') this.cache.clear();
      throw error;
    }
    this.cache.set(audience, token);
    return token;
  }

  private request(audience: string): Promise<AccessToken> {
    return requestToken({
      endpoint: this.identity.endpoint,
      tenantId: this.identity.tenantId,
      ca: this.identity.ca,
      egress: this.identity.egress,
      credential: {
        kind: 'assertion',
        clientId: this.identity.principalId,
        key: this.key.privateKey,
        alg: 'ES256',
        header: { kid: this.key.keyId },
      },
      resource: audience,
      nowMs: this.clock.now(),
    });
  }
}
