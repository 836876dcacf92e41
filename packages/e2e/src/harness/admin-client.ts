// HTTPS calls a test makes itself (not through an SDK): trusting the control plane's CA
// explicitly, with the bootstrap principal's token fetched from the real token endpoint.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

export interface CallOptions {
  /** Bearer token; the bootstrap principal's when omitted, none when null. */
  token?: string | null;
  body?: unknown;
  form?: Record<string, string>;
  /** Extra request headers, such as an Origin. */
  headers?: Record<string, string>;
}

export class AdminClient {
  private readonly ca: string;
  private token: string | undefined;

  constructor(
    readonly url: string,
    caCertPath: string,
    private readonly tenantId: string,
    private readonly appId: string,
    private readonly password: string,
  ) {
    this.ca = readFileSync(caCertPath, 'utf8');
  }

  /** A token from the token endpoint for a client id and secret. */
  async tokenFor(
    clientId: string,
    secret: string,
    scope = 'https://management.azure.com/.default',
  ): Promise<string> {
    const answer = await this.call('POST', `/${this.tenantId}/oauth2/v2.0/token`, {
      token: null,
      form: { grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope },
    });
    const token = answer.body['access_token'];
    if (answer.status !== 200 || typeof token !== 'string') {
      throw new Error(`token request failed: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    return token;
  }

  /** After a restart: tokens survive it, but tests should not depend on a cached one by accident. */
  forgetToken(): void {
    this.token = undefined;
  }

  async call(method: string, path: string, options: CallOptions = {}): Promise<HttpAnswer> {
    const token =
      options.token === null
        ? undefined
        : (options.token ?? (this.token ??= await this.tokenFor(this.appId, this.password)));
    const headers: Record<string, string> = { ...options.headers };
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    let payload: string | undefined;
    if (options.form !== undefined) {
      payload = new URLSearchParams(options.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, this.url), { method, headers, ca: this.ca }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let body: Record<string, unknown> = {};
          try {
            body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
          } catch {
            body = { text };
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }
}
