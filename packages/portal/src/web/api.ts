// Every call the portal makes: the public API with the signed-in person's bearer token, the
// same routes, RBAC and errors as any other client.
import type { Session } from './auth.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ArmList<T> {
  value: T[];
  nextLink?: string;
  '@odata.count'?: number;
}

export class Api {
  constructor(private readonly session: Session) {}

  get baseUrl(): string {
    return this.session.config.apiUrl;
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ body: T; headers: Headers; status: number }> {
    const url = path.startsWith('https://') ? path : `${this.baseUrl}${path}`;
    const response = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${await this.session.token()}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(
        response.status,
        error?.code ?? String(response.status),
        error?.message ?? `${method} ${path} failed with ${response.status}.`,
      );
    }
    return { body: parsed as T, headers: response.headers, status: response.status };
  }

  async get<T>(path: string): Promise<T> {
    return (await this.request<T>('GET', path)).body;
  }

  /** Follows an operation's Azure-AsyncOperation link until it ends. */
  async waitForOperation(
    url: string,
    onStatus: (status: string) => void,
  ): Promise<{ status: string; error?: { code?: string; message?: string } }> {
    for (;;) {
      const operation = await this.get<{
        status: string;
        error?: { code?: string; message?: string };
      }>(url);
      onStatus(operation.status);
      if (operation.status !== 'InProgress') return operation;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}
