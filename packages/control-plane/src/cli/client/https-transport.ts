// HTTPS to the control plane through node:https with a keep-alive Agent, trusting an explicit
// CA when one is configured (global fetch cannot take a per-request CA). node:https is loaded
// on the first request: TLS and HTTP cost a command that sends none (help, usage errors) ~10 ms.
import type { Agent } from 'node:https';
import { CliError } from './cli-error.js';
import type { HttpRequest, HttpResponse, Transport } from './transport.js';

export interface HttpsTransportOptions {
  /** PEM certificate(s) to trust instead of the system store; omitted: system store plus NODE_EXTRA_CA_CERTS. */
  ca?: string;
  timeoutMs?: number;
  /** Larger answers are refused rather than buffered without bound. */
  maxResponseBytes?: number;
}

const TLS_TRUST_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

export class HttpsTransport implements Transport {
  private agent: Agent | undefined;
  private readonly ca: string | undefined;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(options: HttpsTransportOptions = {}) {
    this.ca = options.ca;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
  }

  async send(request: HttpRequest): Promise<HttpResponse> {
    if (request.url.protocol !== 'https:') {
      throw new CliError(
        'ERR_USAGE',
        `refusing to send credentials over ${request.url.protocol.replace(':', '')}: the control plane endpoint must be an https:// URL.`,
      );
    }
    const { Agent, request: httpsRequest } = await import('node:https');
    const agent = (this.agent ??= new Agent({
      keepAlive: true,
      ...(this.ca === undefined ? {} : { ca: this.ca }),
    }));
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...request.headers };
      if (request.body !== undefined) headers['content-length'] = Buffer.byteLength(request.body);
      const outgoing = httpsRequest(
        request.url,
        { method: request.method, headers, agent },
        (incoming) => {
          const chunks: Buffer[] = [];
          let size = 0;
          incoming.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > this.maxResponseBytes) {
              incoming.destroy(
                new Error(`the response is larger than ${this.maxResponseBytes} bytes`),
              );
              return;
            }
            chunks.push(chunk);
          });
          incoming.on('error', (error) => reject(networkError(request.url, error)));
          incoming.on('end', () => {
            const responseHeaders: Record<string, string | undefined> = {};
            for (const [name, value] of Object.entries(incoming.headers)) {
              responseHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
            }
            resolve({
              status: incoming.statusCode ?? 0,
              headers: responseHeaders,
              body: Buffer.concat(chunks).toString('utf8'),
            });
          });
        },
      );
      outgoing.setTimeout(this.timeoutMs, () => {
        outgoing.destroy(new Error(`no answer within ${this.timeoutMs / 1000} s`));
      });
      outgoing.on('error', (error) => reject(networkError(request.url, error)));
      outgoing.end(request.body);
    });
  }

  close(): void {
    this.agent?.destroy();
  }
}

function networkError(url: URL, error: Error): CliError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const where = url.origin;
  if (TLS_TRUST_ERRORS.has(code)) {
    return new CliError(
      'ERR_NETWORK',
      `the TLS certificate of ${where} is not trusted (${code}). Pass the control plane's CA certificate with 'tether login --ca-cert FILE' or set TETHER_CA_CERT=FILE.`,
      { cause: error },
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new CliError(
      'ERR_NETWORK',
      `the TLS certificate of ${where} is not issued for '${url.hostname}' (${error.message}). Use the host name the certificate names in --endpoint.`,
      { cause: error },
    );
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return new CliError(
      'ERR_NETWORK',
      `the TLS certificate of ${where} is not valid now (${code}).`,
      { cause: error },
    );
  }
  const hint =
    code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN'
      ? ' Check --endpoint and that tether server is running there.'
      : '';
  return new CliError(
    'ERR_NETWORK',
    `cannot reach the control plane at ${where}: ${error.message}.${hint}`,
    { cause: error },
  );
}
