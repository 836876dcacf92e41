// `tether login` for a person: the device code flow against the control plane's identity
// service. The person opens the page shown, enters the code and signs in; the CLI polls until
// then and keeps the refresh token it gets.
import { decodeJwt } from 'jose';
import type { Clock } from '../../clock.js';
import { isRecord } from './api-error.js';
import { MANAGEMENT_SCOPE } from './api-versions.js';
import { CliError } from './cli-error.js';
import type { Transport } from './transport.js';

/** The public client id the Azure CLI uses; Tether accepts it for people's sign-in. */
export const PEOPLE_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
export const PEOPLE_SCOPE = `${MANAGEMENT_SCOPE} openid profile offline_access`;

export interface PersonTokens {
  accessToken: string;
  expiresOn: number;
  refreshToken: string;
  userName: string;
}

interface Call {
  status: number;
  body: Record<string, unknown>;
}

export async function deviceCodeLogin(
  endpoint: string,
  tenantId: string,
  transport: Transport,
  clock: Clock,
  sleep: (ms: number) => Promise<void>,
  show: (message: string) => void,
): Promise<PersonTokens> {
  const base = `${endpoint}/${encodeURIComponent(tenantId)}/oauth2/v2.0`;
  const post = async (path: string, form: Record<string, string>): Promise<Call> => {
    const response = await transport.send({
      method: 'POST',
      url: new URL(`${base}/${path}`),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
    });
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      body = undefined;
    }
    return { status: response.status, body: isRecord(body) ? body : {} };
  };
  const refused = (call: Call, what: string): CliError =>
    new CliError(
      'ERR_AUTHENTICATION',
      `${what} failed: ${textOf(call.body['error_description']) || textOf(call.body['error']) || `HTTP ${call.status}`}`,
    );

  const started = await post('devicecode', { client_id: PEOPLE_CLIENT_ID, scope: PEOPLE_SCOPE });
  const deviceCode = started.body['device_code'];
  if (started.status !== 200 || typeof deviceCode !== 'string') {
    throw refused(started, `starting the sign-in at ${base}/devicecode`);
  }
  show(textOf(started.body['message']));
  let interval = Number(started.body['interval'] ?? 5) * 1000;
  const deadline = clock.now() + Number(started.body['expires_in'] ?? 900) * 1000;
  for (;;) {
    await sleep(interval);
    const requestedAt = clock.now();
    const polled = await post('token', {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      client_id: PEOPLE_CLIENT_ID,
      device_code: deviceCode,
    });
    const error = polled.body['error'];
    if (polled.status === 200) return tokensOf(polled, requestedAt);
    if (error === 'authorization_pending' && clock.now() < deadline) continue;
    if (error === 'slow_down') {
      interval += 5000;
      continue;
    }
    throw refused(polled, 'signing in');
  }
}

function tokensOf(call: Call, requestedAt: number): PersonTokens {
  const { access_token: accessToken, refresh_token: refreshToken, id_token: idToken } = call.body;
  const expiresIn = Number(call.body['expires_in']);
  if (
    typeof accessToken !== 'string' ||
    typeof refreshToken !== 'string' ||
    typeof idToken !== 'string' ||
    !(expiresIn > 0)
  ) {
    throw new CliError(
      'ERR_AUTHENTICATION',
      'the token endpoint answered without an access token, refresh token, id token and expires_in.',
    );
  }
  // Only shown and kept as the profile's user name: the server checks every token it gets.
  const claims = decodeJwt(idToken);
  return {
    accessToken,
    refreshToken,
    expiresOn: requestedAt + expiresIn * 1000,
    userName: textOf(claims['preferred_username']) || textOf(claims['oid']),
  };
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
