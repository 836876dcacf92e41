// `tether logout` for a person: the refresh token is revoked at the control plane (RFC 7009)
// before the profile is forgotten, so a copy of it left anywhere stops working too.
import { isRecord } from './api-error.js';
import { CliError } from './cli-error.js';
import type { Profile } from './profile-store.js';
import type { Transport } from './transport.js';

export async function revokeSignIn(profile: Profile, transport: Transport): Promise<void> {
  if (profile.refreshToken === undefined || profile.refreshToken === '') return;
  const url = new URL(
    `${profile.endpoint}/${encodeURIComponent(profile.tenantId)}/oauth2/v2.0/revoke`,
  );
  const keep = "The profile is kept; run 'tether logout --local-only' to forget it anyway.";
  let answer;
  try {
    answer = await transport.send({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        token: profile.refreshToken,
        token_type_hint: 'refresh_token',
        client_id: profile.clientId,
      }).toString(),
    });
  } catch (error) {
    throw new CliError(
      'ERR_NETWORK',
      `cannot reach ${url.origin} to end the sign-in there (${(error as Error).message}). ${keep}`,
    );
  }
  if (answer.status === 200) return;
  let reason = `HTTP ${answer.status}`;
  try {
    const body: unknown = JSON.parse(answer.body);
    if (isRecord(body) && typeof body['error_description'] === 'string') {
      reason = body['error_description'];
    }
  } catch {
    // Not JSON: the status says enough.
  }
  throw new CliError(
    'ERR_AUTHENTICATION',
    `the control plane did not end the sign-in: ${reason}. ${keep}`,
  );
}
