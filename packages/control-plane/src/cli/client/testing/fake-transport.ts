// A Transport that answers from routes a test declares and records every request; it stands
// in for the control plane so each command's requests and output can be checked in-process.
import type { HttpRequest, HttpResponse, Transport } from '../transport.js';

export interface RecordedRequest {
  method: HttpRequest['method'];
  url: URL;
  /** Path without the query. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  /** Parsed JSON body, or the form fields of a token request. */
  body: unknown;
}

export interface FakeReply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Responder = FakeReply | ((request: RecordedRequest) => FakeReply);

interface Route {
  method: string;
  path: string | RegExp;
  respond: Responder;
}

export class FakeTransport implements Transport {
  readonly requests: RecordedRequest[] = [];
  closed = 0;
  private readonly routes: Route[] = [];
  private tokenCount = 0;

  /** Later routes win over earlier ones, so a test can override a default. */
  on(method: HttpRequest['method'], path: string | RegExp, respond: Responder): this {
    this.routes.unshift({ method, path, respond });
    return this;
  }

  /** Requests other than token requests, as `METHOD /path`. */
  calls(): string[] {
    return this.requests
      .filter((r) => !r.path.endsWith('/oauth2/v2.0/token'))
      .map((r) => `${r.method} ${r.path}`);
  }

  send(request: HttpRequest): Promise<HttpResponse> {
    const contentType = request.headers['content-type'] ?? '';
    const body =
      request.body === undefined
        ? undefined
        : contentType.includes('x-www-form-urlencoded')
          ? Object.fromEntries(new URLSearchParams(request.body))
          : (JSON.parse(request.body) as unknown);
    const recorded: RecordedRequest = {
      method: request.method,
      url: request.url,
      path: request.url.pathname,
      query: request.url.searchParams,
      headers: request.headers,
      body,
    };
    this.requests.push(recorded);
    const route = this.routes.find(
      (r) =>
        r.method === request.method &&
        (typeof r.path === 'string' ? r.path === recorded.path : r.path.test(recorded.path)),
    );
    let reply: FakeReply;
    if (route !== undefined) {
      reply = typeof route.respond === 'function' ? route.respond(recorded) : route.respond;
    } else if (recorded.path.endsWith('/oauth2/v2.0/token')) {
      this.tokenCount += 1;
      reply = {
        body: { access_token: `token-${this.tokenCount}`, token_type: 'Bearer', expires_in: 3600 },
      };
    } else {
      reply = {
        status: 404,
        body: {
          error: {
            code: 'ResourceNotFound',
            message: `No route matches ${request.method} ${recorded.path}.`,
          },
        },
      };
    }
    return Promise.resolve({
      status: reply.status ?? 200,
      headers: reply.headers ?? {},
      body: reply.body === undefined ? '' : JSON.stringify(reply.body),
    });
  }

  close(): void {
    this.closed += 1;
  }
}
