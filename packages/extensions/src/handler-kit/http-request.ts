// One small HTTP(S) client on node:http/node:https: handlers ship without dependencies, and
// node:https trusts NODE_EXTRA_CA_CERTS (the agent's CA) on its own.
import { request as httpRequestRaw, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequestRaw } from 'node:https';

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface HttpRequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** Largest answer read; metrics and token answers are small. */
const MAX_RESPONSE_BYTES = 1 << 20;

export function httpRequest(url: URL, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  const send = url.protocol === 'https:' ? httpsRequestRaw : httpRequestRaw;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) {
      headers['content-length'] = String(Buffer.byteLength(options.body));
    }
    const request = send(
      url,
      {
        method: options.method ?? 'GET',
        headers,
        timeout: options.timeoutMs ?? 30_000,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            response.destroy(new Error(`the answer from ${url.origin} is larger than 1 MiB`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () => {
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    request.on('timeout', () => {
      request.destroy(new Error(`no answer from ${url.origin} in time`));
    });
    request.on('error', reject);
    request.end(options.body);
  });
}
