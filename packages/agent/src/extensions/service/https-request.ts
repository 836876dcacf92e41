// One HTTPS call whose answer is kept as bytes: the extension service's long poll (which must be
// abortable) and package downloads (zip bytes), direct or through the proxy as its route says.
// Trusts only the CA connect saved, like
// control-plane/https-json.ts; network failures become ERR_UNREACHABLE. A total deadline bounds
// every call: a control plane that trickles bytes never trips the idle timeout, and a package
// download runs while the host holds the extension state lock.
import { request } from 'node:https';
import { AgentError } from '../../errors.js';
import {
  agentFor,
  failOnRefusedTunnel,
  throughProxy,
  tunnelTlsOptions,
} from '../../network/proxy-agent.js';
import type { ProxyRoute } from '../../network/proxy-route.js';

export interface BytesCall {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  /** Direct or through the proxy, as the local configuration says for this call's service. */
  readonly route: ProxyRoute;
  readonly ca: string | undefined;
  readonly token: string;
  readonly json?: unknown;
  readonly accept: string;
  /** The socket may stay idle this long. */
  readonly timeoutMs: number;
  /** The whole call, answer included, must be done this long after it starts. */
  readonly deadlineMs: number;
  /** Answers larger than this fail (a package is read into memory to be verified). */
  readonly maxBytes: number;
  readonly signal?: AbortSignal | undefined;
}

export interface BytesAnswer {
  readonly status: number;
  readonly body: Buffer;
  /** The answer's Retry-After header, when it has one. */
  readonly retryAfter?: string | undefined;
}

export function httpsBytes(call: BytesCall): Promise<BytesAnswer> {
  const url = new URL(call.url);
  if (url.protocol !== 'https:') {
    return Promise.reject(
      new AgentError(
        'ERR_INVALID_VALUE',
        `The control plane must be reached over https; got ${call.url}.`,
      ),
    );
  }
  const headers: Record<string, string> = {
    accept: call.accept,
    authorization: `Bearer ${call.token}`,
  };
  const payload = call.json === undefined ? undefined : JSON.stringify(call.json);
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const agent = agentFor(call.route, false);
  return new Promise((resolve, reject) => {
    // Why the agent itself ended the request, reported in place of the socket error it causes.
    let failure: AgentError | undefined;
    const req = request(url, {
      method: call.method,
      headers,
      ...(call.ca === undefined ? {} : { ca: call.ca }),
      ...(agent === undefined ? {} : { agent }),
      ...tunnelTlsOptions(call.route, url),
      timeout: call.timeoutMs,
      ...(call.signal === undefined ? {} : { signal: call.signal }),
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > call.maxBytes) {
          // The control plane answered, with more than it may: not a network failure.
          failure = new AgentError(
            'ERR_CONTROL_PLANE_REFUSED',
            `The control plane's answer to ${call.method} ${url.pathname} is larger than ${call.maxBytes} bytes, the most the agent takes; nothing of it was used.`,
          );
          req.destroy(failure);
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (error) => fail(error));
      res.on('end', () => {
        clearTimeout(deadline);
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks),
          retryAfter: res.headers['retry-after'],
        });
      });
    });
    const deadline = setTimeout(() => {
      failure = new AgentError(
        'ERR_UNREACHABLE',
        `The control plane did not finish answering ${call.method} ${call.url} within ${call.deadlineMs / 1000} s; the request was abandoned.`,
      );
      req.destroy(failure);
    }, call.deadlineMs);
    const fail = (error: Error): void => {
      clearTimeout(deadline);
      reject(failure ?? unreachable(url, call.route, error));
    };
    failOnRefusedTunnel(req, call.route);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', fail);
    req.end(payload);
  });
}

function unreachable(url: URL, route: ProxyRoute, error: Error): AgentError {
  return new AgentError(
    'ERR_UNREACHABLE',
    `Cannot reach the control plane at ${url.origin}${throughProxy(route)}: ${error.message}.`,
    { cause: error },
  );
}

/** The answer as a JSON object; anything else becomes `{text}` for error messages. */
export function jsonBody(answer: BytesAnswer): Record<string, unknown> {
  try {
    const parsed: unknown =
      answer.body.byteLength === 0 ? {} : JSON.parse(answer.body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : { value: parsed };
  } catch {
    return { text: answer.body.toString('utf8').slice(0, 2000) };
  }
}
