// The one error handlers throw: a stable code and a message that names the value and the fix.
// The handler kit turns it into an `error` status; its message must never carry secrets.
export type HandlerErrorCode =
  'ERR_HANDLER_ENVIRONMENT' | 'ERR_HANDLER_SETTINGS' | 'ERR_HANDLER_COMMAND' | 'ERR_HANDLER_CONFIG';

export class HandlerError extends Error {
  constructor(
    readonly code: HandlerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HandlerError';
  }
}
