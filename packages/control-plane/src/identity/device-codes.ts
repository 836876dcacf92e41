// The device code flow (RFC 8628) as MSAL drives it: a code pair handed out, a person entering
// the user code on the verification page, and polls answered `authorization_pending` until then.
import type { Clock } from '../clock.js';
import { randomInt } from 'node:crypto';
import { OAuthError } from './oauth-error.js';
import { newOpaqueToken, opaqueTokenHash } from './opaque-token.js';
import type { DeviceCodeRow, SignInStore } from './sign-in-store.js';

export const DEVICE_CODE_LIFETIME_MS = 15 * 60_000;
export const DEVICE_CODE_INTERVAL_SECONDS = 5;
/** Consonants only, no look-alikes: no words, nothing to misread. 20^8 codes. */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const USER_CODE_LENGTH = 8;

export interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  expires_in: number;
  interval: number;
  message: string;
}

/** What a person types, read leniently: case, spaces and dashes do not matter. */
export function normalizeUserCode(typed: string): string {
  return typed.toUpperCase().replace(/[\s-]/g, '');
}

export class DeviceCodes {
  constructor(
    private readonly store: SignInStore,
    private readonly clock: Clock,
    private readonly verificationUri: string,
  ) {}

  async start(clientId: string, scope: string): Promise<DeviceAuthorization> {
    const deviceCode = newOpaqueToken();
    const userCode = Array.from(
      { length: USER_CODE_LENGTH },
      () => USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)],
    ).join('');
    const now = this.clock.now();
    await this.store.insertDeviceCode({
      device_code_hash: opaqueTokenHash(deviceCode),
      user_code: userCode,
      client_id: clientId,
      scope,
      status: 'pending',
      user_id: null,
      credential_id: null,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + DEVICE_CODE_LIFETIME_MS).toISOString(),
      last_polled_at: null,
    });
    const shown = `${userCode.slice(0, 4)}-${userCode.slice(4)}`;
    return {
      device_code: deviceCode,
      user_code: shown,
      verification_uri: this.verificationUri,
      expires_in: DEVICE_CODE_LIFETIME_MS / 1000,
      interval: DEVICE_CODE_INTERVAL_SECONDS,
      message: `To sign in, use a web browser to open the page ${this.verificationUri} and enter the code ${shown} to authenticate.`,
    };
  }

  /** The pending code a person typed, or undefined when there is none (or it has expired). */
  async pending(typed: string): Promise<DeviceCodeRow | undefined> {
    const row = await this.store.deviceCodeByUserCode(normalizeUserCode(typed));
    if (row?.status !== 'pending' || this.clock.now() >= Date.parse(row.expires_at)) {
      return undefined;
    }
    return row;
  }

  async approve(row: DeviceCodeRow, userId: string, credentialId: string): Promise<boolean> {
    return this.store.moveDeviceCode(row.device_code_hash, 'pending', 'approved', {
      userId,
      credentialId,
    });
  }

  async deny(row: DeviceCodeRow): Promise<boolean> {
    return this.store.moveDeviceCode(row.device_code_hash, 'pending', 'denied');
  }

  /** The approved code, taken so it gives tokens once; otherwise the OAuth answer to poll again or stop. */
  async redeem(deviceCode: string, clientId: string): Promise<DeviceCodeRow> {
    const hash = opaqueTokenHash(deviceCode);
    const row = await this.store.deviceCode(hash);
    const now = this.clock.now();
    if (row === undefined || row.client_id !== clientId.toLowerCase()) {
      throw new OAuthError(
        'invalid_grant',
        70000,
        'The device code is not valid for this client: request a new one from the devicecode endpoint.',
      );
    }
    if (now >= Date.parse(row.expires_at)) {
      throw new OAuthError(
        'expired_token',
        70020,
        `The device code expired at ${row.expires_at} before anyone entered it. Start the sign-in again.`,
      );
    }
    const last = row.last_polled_at === null ? undefined : Date.parse(row.last_polled_at);
    await this.store.pollDeviceCode(hash, new Date(now).toISOString());
    switch (row.status) {
      case 'pending':
        // Half the interval: a client keeping to it is never told to slow down by jitter.
        if (last !== undefined && now - last < (DEVICE_CODE_INTERVAL_SECONDS * 1000) / 2) {
          throw new OAuthError(
            'slow_down',
            70016,
            `Poll at most every ${DEVICE_CODE_INTERVAL_SECONDS} seconds.`,
          );
        }
        throw new OAuthError(
          'authorization_pending',
          70016,
          'OAuth 2.0 device flow error. Authorization is pending. Continue polling.',
        );
      case 'denied':
        throw new OAuthError('access_denied', 70019, 'The person declined this sign-in.');
      case 'redeemed':
        throw new OAuthError(
          'invalid_grant',
          54005,
          'The device code was already redeemed. Start the sign-in again.',
        );
      case 'approved':
        if (!(await this.store.moveDeviceCode(hash, 'approved', 'redeemed'))) {
          throw new OAuthError(
            'invalid_grant',
            54005,
            'The device code was already redeemed. Start the sign-in again.',
          );
        }
        return row;
    }
  }
}
