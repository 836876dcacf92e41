// One HTTPS call whose answer is kept as bytes: the extension service's long poll (which must be
// abortable) and package downloads (zip bytes). Trusts only the CA connect saved, like
// control-plane/https-json.ts; network failures become ERR_UNREACHABLE.
import { request } from 'node:https';
import { AgentError } from '../../errors.js';

export interface BytesCall {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly ca: string | undefined;
  readonly token: string;
  readonly json?: unknown;
  readonly accept: string;
  readonly timeoutMs: number;
  /** Answers larger than this fail (a package is read into memory to be verified). */
  readonly maxBytes: number;
  readonly signal?: AbortSignal | undefined;
}

export interface BytesAnswer {
  readonly status: number;
  readonly body: Buffer;
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
  return new Promise((resolve, reject) => {
    let tooLarge: AgentError | undefined;
    const req = request(url, {
      method: call.method,
      headers,
      ...(call.ca === undefined ? {} : { ca: call.ca }),
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
          tooLarge = new AgentError(
            'ERR_CONTROL_PLANE_REFUSED',
            `The control plane's answer to ${call.method} ${url.pathname} is larger than ${call.maxBytes} bytes, the most the agent takes; nothing of it was used.`,
          );
          req.destroy(tooLarge);
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (error) => reject(unreachable(url, error)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) => reject(error === tooLarge ? tooLarge : unreachable(url, error)));
    req.end(payload);
  });
}

function unreachable(url: URL, error: Error): AgentError {
  return new AgentError(
    'ERR_UNREACHABLE',
    `Cannot reach the control plane at ${url.origin}: ${error.message}.`,
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
