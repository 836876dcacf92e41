// One JSON-over-HTTPS call to the control plane on its route (direct or through the proxy),
// trusting only the CA connect saved (or the system store when none was given). Network failures
// become ERR_UNREACHABLE.
import type { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { AgentError } from '../errors.js';
import {
  agentFor,
  failOnRefusedTunnel,
  throughProxy,
  tunnelTlsOptions,
} from '../network/proxy-agent.js';
import type { ProxyRoute } from '../network/proxy-route.js';

export interface HttpsAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Record<string, unknown>;
  /**
   * The certificate the server presented (it verified, or there would be no answer); Node
   * gives it only on the call that opened the connection, hence `freshConnection`.
   */
  readonly serverCertificate?: X509Certificate | undefined;
}

export interface HttpsCall {
  readonly method: string;
  readonly url: string;
  /** Direct or through the proxy, as the local configuration says for this call's service. */
  readonly route: ProxyRoute;
  readonly ca?: string | undefined;
  readonly token?: string | undefined;
  readonly json?: unknown;
  readonly form?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  /** A new connection rather than a kept-alive one, so the server's certificate is seen. */
  readonly freshConnection?: boolean;
}

export function httpsJson(call: HttpsCall): Promise<HttpsAnswer> {
  const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
  if (call.token !== undefined) headers['authorization'] = `Bearer ${call.token}`;
  let payload: string | undefined;
  if (call.form !== undefined) {
    payload = new URLSearchParams(call.form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  } else if (call.json !== undefined) {
    payload = JSON.stringify(call.json);
    headers['content-type'] = 'application/json';
  }
  const url = new URL(call.url);
  if (url.protocol !== 'https:') {
    return Promise.reject(
      new AgentError(
        'ERR_INVALID_VALUE',
        `The control plane must be reached over https; got ${call.url}.`,
      ),
    );
  }
  const agent = agentFor(call.route, call.freshConnection === true);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: call.method,
        headers,
        ...(call.ca === undefined ? {} : { ca: call.ca }),
        ...(agent === undefined ? {} : { agent }),
        ...tunnelTlsOptions(call.route, url),
        timeout: call.timeoutMs ?? 30_000,
      },
      (res) => {
        const serverCertificate = (res.socket as TLSSocket).getPeerX509Certificate() ?? undefined;
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('error', reject);
        res.on('end', () => {
          let body: Record<string, unknown> = {};
          try {
            const parsed: unknown = text === '' ? {} : JSON.parse(text);
            body =
              typeof parsed === 'object' && parsed !== null
                ? (parsed as Record<string, unknown>)
                : { value: parsed };
          } catch {
            body = { text: text.slice(0, 2000) };
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, serverCertificate });
        });
      },
    );
    failOnRefusedTunnel(req, call.route);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) => {
      reject(
        new AgentError(
          'ERR_UNREACHABLE',
          `Cannot reach the control plane at ${url.origin}${throughProxy(call.route)}: ${error.message}.`,
          {
            cause: error,
          },
        ),
      );
    });
    req.end(payload);
  });
}

/** The ARM or OAuth error of an answer as one line for a person. */
export function describeError(answer: Pick<HttpsAnswer, 'status' | 'body'>): string {
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  const arm = answer.body['error'];
  if (typeof arm === 'object' && arm !== null) {
    const { code, message } = arm as { code?: unknown; message?: unknown };
    return `${answer.status} ${text(code)}: ${text(message)}`;
  }
  if (typeof arm === 'string') {
    return `${answer.status} ${arm}: ${text(answer.body['error_description'])}`;
  }
  return `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`;
}
