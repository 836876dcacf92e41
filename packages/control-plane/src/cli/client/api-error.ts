// The control plane's answer to a failed request, shown the way `az` shows it: the ARM (or
// OAuth) error code in parentheses, then the message, as the server wrote them.
import { CliError } from './cli-error.js';
import type { HttpResponse } from './transport.js';

export class ApiError extends CliError {
  /** ARM error code (`AuthorizationFailed`) or OAuth error (`invalid_client`). */
  readonly apiCode: string;
  readonly status: number;

  constructor(status: number, apiCode: string, message: string, target?: string) {
    const shown = `(${apiCode}) ${message}${target === undefined ? '' : ` [target: ${target}]`}`;
    super(
      status === 404 ? 'ERR_NOT_FOUND' : 'ERR_API',
      shown,
      target === undefined ? {} : { target },
    );
    this.apiCode = apiCode;
    this.status = status;
  }

  static fromResponse(response: HttpResponse): ApiError {
    const parsed = tryParse(response.body);
    const arm = parsed?.['error'];
    if (isRecord(arm) && typeof arm['code'] === 'string') {
      const message = typeof arm['message'] === 'string' ? arm['message'] : '';
      const target = typeof arm['target'] === 'string' ? arm['target'] : undefined;
      return new ApiError(response.status, arm['code'], message, target);
    }
    if (typeof arm === 'string') {
      const description = parsed?.['error_description'];
      return new ApiError(
        response.status,
        arm,
        typeof description === 'string' ? description : `HTTP ${response.status}`,
      );
    }
    const text = response.body.trim().slice(0, 300);
    return new ApiError(
      response.status,
      `HTTP${response.status}`,
      text === '' ? 'the control plane answered with no error detail.' : text,
    );
  }
}

function tryParse(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
