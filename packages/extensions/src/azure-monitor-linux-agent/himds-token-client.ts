// Gets an access token for the control plane from HIMDS the way a trusted local caller does:
// ask, get a challenge naming a key file only root can read, read it, ask again with its
// contents. Keeps the token until five minutes before it expires. Never logs a token.
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { httpRequest, type HttpResponse } from '../handler-kit/http-request.js';

/** A token is renewed this long before it expires. */
export const TOKEN_RENEW_BEFORE_MS = 5 * 60_000;

const MAX_KEY_FILE_BYTES = 4096;

export class HimdsTokenError extends Error {
  override readonly name = 'HimdsTokenError';
}

export class HimdsTokenClient {
  private cached: { token: string; renewAt: number } | undefined;

  constructor(
    /** IDENTITY_ENDPOINT: `http://localhost:40342/metadata/identity/oauth2/token`. */
    private readonly identityEndpoint: string,
    /** The audience: the control plane's URL. */
    private readonly resource: string,
    private readonly now: () => number = Date.now,
  ) {}

  async token(signal?: AbortSignal): Promise<string> {
    if (this.cached !== undefined && this.now() < this.cached.renewAt) return this.cached.token;
    const url = new URL(this.identityEndpoint);
    url.searchParams.set('api-version', '2020-06-01');
    url.searchParams.set('resource', this.resource);
    const ask = (authorization?: string): Promise<HttpResponse> =>
      httpRequest(url, {
        headers: {
          metadata: 'true',
          ...(authorization === undefined ? {} : { authorization }),
        },
        ...(signal === undefined ? {} : { signal }),
      });
    let answer = await ask();
    if (answer.status === 401) {
      answer = await ask(`Basic ${readChallengeKey(answer)}`);
    }
    if (answer.status !== 200) {
      throw new HimdsTokenError(
        `HIMDS at ${url.origin} refused the token request (HTTP ${answer.status}): ${errorText(answer.body)}`,
      );
    }
    const { token, expiresOnMs } = parseToken(answer.body);
    this.cached = { token, renewAt: expiresOnMs - TOKEN_RENEW_BEFORE_MS };
    return token;
  }

  /** Drops the cached token, e.g. after the control plane refused it. */
  invalidate(): void {
    this.cached = undefined;
  }
}

function readChallengeKey(answer: HttpResponse): string {
  const header = answer.headers['www-authenticate'];
  const match = typeof header === 'string' ? /^Basic realm=(.+)$/.exec(header) : null;
  const path = match?.[1]?.trim();
  if (path === undefined || !isAbsolute(path) || !path.endsWith('.key')) {
    throw new HimdsTokenError(
      'HIMDS answered 401 without a "WWW-Authenticate: Basic realm=<key file>" challenge.',
    );
  }
  const size = statSync(path).size;
  if (size > MAX_KEY_FILE_BYTES) {
    throw new HimdsTokenError(`The HIMDS challenge file ${path} is larger than 4096 bytes.`);
  }
  return readFileSync(path, 'utf8');
}

function parseToken(body: string): { token: string; expiresOnMs: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new HimdsTokenError('HIMDS answered 200 with a body that is not JSON.');
  }
  const { access_token: token, expires_on: expiresOn } = (parsed ?? {}) as Record<string, unknown>;
  const seconds = Number(expiresOn);
  if (typeof token !== 'string' || token === '' || !Number.isFinite(seconds)) {
    throw new HimdsTokenError('HIMDS answered 200 without access_token and expires_on.');
  }
  return { token, expiresOnMs: seconds * 1000 };
}

function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error_description?: unknown; error?: unknown };
    const text = parsed.error_description ?? parsed.error;
    if (typeof text === 'string') return text.slice(0, 300);
  } catch {
    // Not JSON: its start below.
  }
  return body.slice(0, 300);
}
