// A small typed JSON client for the control plane: bearer tokens, ARM error rendering, list
// paging through nextLink / @odata.nextLink, and waiting out long-running operations.
import { systemClock, type Clock } from '../../clock.js';
import { ApiError, isRecord } from './api-error.js';
import { CliError } from './cli-error.js';
import type { HttpRequest, HttpResponse, Transport } from './transport.js';

export type Query = Record<string, string | undefined>;

export interface AccessTokenSource {
  accessToken(fresh?: boolean): Promise<string>;
}

export interface ApiClientOptions {
  /** https URL of the control plane, without a trailing slash. */
  endpoint: string;
  transport: Transport;
  tokens: AccessTokenSource;
  sleep?: (ms: number) => Promise<void>;
  clock?: Clock;
  /** How long to wait for a long-running operation before giving up on it. */
  pollTimeoutMs?: number;
}

export interface WriteOptions {
  query?: Query;
  /** Return once the control plane accepted a long-running operation, like `az --no-wait`. */
  noWait?: boolean;
  /** Told of each poll of a long-running operation that found it still running. */
  onPoll?: (operation: unknown) => Promise<void>;
}

type Method = HttpRequest['method'];

const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'cancelled']);

export class ApiClient {
  private readonly origin: string;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly pollTimeoutMs: number;
  private readonly clock: Clock;

  constructor(private readonly options: ApiClientOptions) {
    this.origin = new URL(options.endpoint).origin;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.pollTimeoutMs = options.pollTimeoutMs ?? 10 * 60_000;
    this.clock = options.clock ?? systemClock;
  }

  async get<T>(path: string, query?: Query): Promise<T> {
    return (await this.call('GET', path, query)).body as T;
  }

  /** GET that answers undefined when the thing does not exist (404). */
  async find<T>(path: string, query?: Query): Promise<T | undefined> {
    try {
      return await this.get<T>(path, query);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async put<T>(path: string, body: unknown, options: WriteOptions = {}): Promise<T> {
    return this.write<T>('PUT', path, body, options);
  }

  async patch<T>(path: string, body: unknown, options: WriteOptions = {}): Promise<T> {
    return this.write<T>('PATCH', path, body, options);
  }

  async post<T>(path: string, body: unknown, options: WriteOptions = {}): Promise<T> {
    return this.write<T>('POST', path, body, options);
  }

  async delete(path: string, options: WriteOptions = {}): Promise<void> {
    await this.write('DELETE', path, undefined, options);
  }

  /** Every item of a list, following next links (to this control plane only) up to `max`. */
  async list<T>(path: string, query?: Query, max = Number.POSITIVE_INFINITY): Promise<T[]> {
    const items: T[] = [];
    let page = (await this.call('GET', path, query)).body;
    for (;;) {
      if (!isRecord(page) || !Array.isArray(page['value'])) {
        throw new CliError(
          'ERR_API',
          `the control plane answered GET ${path} without a value list.`,
        );
      }
      items.push(...(page['value'] as T[]));
      const next = page['nextLink'] ?? page['@odata.nextLink'];
      if (typeof next !== 'string' || next === '' || items.length >= max) break;
      page = (await this.call('GET', next)).body;
    }
    return items.slice(0, max);
  }

  private async write<T>(
    method: Method,
    path: string,
    body: unknown,
    options: WriteOptions,
  ): Promise<T> {
    const response = await this.call(method, path, options.query, body);
    const operation = response.headers['azure-asyncoperation'];
    const location = response.headers['location'];
    // A 200 or 201 that names an Azure-AsyncOperation is still running (an extension update).
    const accepted = response.status === 202 || (response.status < 300 && operation !== undefined);
    if (!accepted || options.noWait === true) return response.body as T;
    if (operation !== undefined) {
      await this.pollOperation(operation, response.headers['retry-after'], options.onPoll);
      if (method === 'PUT' || method === 'PATCH') return this.get<T>(path, options.query);
      return undefined as T;
    }
    if (location !== undefined)
      return this.pollLocation<T>(location, response.headers['retry-after']);
    return response.body as T;
  }

  private async pollOperation(
    url: string,
    retryAfter: string | undefined,
    onPoll: WriteOptions['onPoll'],
  ): Promise<void> {
    const deadline = this.clock.now() + this.pollTimeoutMs;
    let wait = retryAfter;
    for (;;) {
      await this.sleep(retryDelay(wait));
      const response = await this.call('GET', url);
      const status =
        isRecord(response.body) && typeof response.body['status'] === 'string'
          ? response.body['status']
          : '';
      if (TERMINAL.has(status.toLowerCase())) {
        if (status.toLowerCase() === 'succeeded') return;
        const error = isRecord(response.body) ? response.body['error'] : undefined;
        const field = (name: string): string | undefined =>
          isRecord(error) && typeof error[name] === 'string' ? error[name] : undefined;
        throw new ApiError(
          response.status,
          field('code') ?? status,
          field('message') ?? `The operation ended ${status}.`,
        );
      }
      if (this.clock.now() > deadline) throw stillRunning(url, this.pollTimeoutMs);
      await onPoll?.(response.body);
      wait = response.headers['retry-after'];
    }
  }

  private async pollLocation<T>(url: string, retryAfter: string | undefined): Promise<T> {
    const deadline = this.clock.now() + this.pollTimeoutMs;
    let wait = retryAfter;
    for (;;) {
      await this.sleep(retryDelay(wait));
      const response = await this.call('GET', url);
      if (response.status !== 202) return response.body as T;
      if (this.clock.now() > deadline) throw stillRunning(url, this.pollTimeoutMs);
      wait = response.headers['retry-after'];
    }
  }

  private async call(
    method: Method,
    pathOrUrl: string,
    query?: Query,
    body?: unknown,
  ): Promise<{ status: number; headers: HttpResponse['headers']; body: unknown }> {
    const url = this.resolve(pathOrUrl, query);
    const send = async (fresh: boolean): Promise<HttpResponse> =>
      this.options.transport.send({
        method,
        url,
        headers: {
          authorization: `Bearer ${await this.options.tokens.accessToken(fresh)}`,
          accept: 'application/json',
          'user-agent': 'tether-cli',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    let response = await send(false);
    // A cached token can outlive the keys that signed it (the server was re-initialized).
    if (response.status === 401) response = await send(true);
    if (response.status >= 400) throw ApiError.fromResponse(response);
    return {
      status: response.status,
      headers: response.headers,
      body: parseBody(response, method, url),
    };
  }

  private resolve(pathOrUrl: string, query?: Query): URL {
    // A next link or operation URL names the server as it knows itself; the token still goes
    // only to the endpoint the user configured, whatever host the link names.
    const url = pathOrUrl.startsWith('/')
      ? new URL(`${this.options.endpoint}${pathOrUrl}`)
      : sameServer(new URL(pathOrUrl), this.origin);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, value);
    }
    return url;
  }
}

function sameServer(link: URL, origin: string): URL {
  if (link.protocol !== 'https:' && link.protocol !== 'http:') {
    throw new CliError('ERR_API', `the control plane sent a link that is not a URL: ${link.href}`);
  }
  return new URL(`${link.pathname}${link.search}`, origin);
}

function parseBody(response: HttpResponse, method: Method, url: URL): unknown {
  if (response.status === 204 || response.body.trim() === '') return undefined;
  try {
    return JSON.parse(response.body) as unknown;
  } catch {
    throw new CliError(
      'ERR_API',
      `the control plane answered ${method} ${url.pathname} with HTTP ${response.status} and a body that is not JSON.`,
    );
  }
}

function retryDelay(retryAfter: string | undefined): number {
  const seconds = Number(retryAfter);
  if (!Number.isFinite(seconds) || seconds <= 0) return 1000;
  return Math.min(seconds, 30) * 1000;
}

function stillRunning(url: string, timeoutMs: number): CliError {
  return new CliError(
    'ERR_API',
    `the operation is still running after ${timeoutMs / 60_000} minutes; its status is at ${url}.`,
  );
}
