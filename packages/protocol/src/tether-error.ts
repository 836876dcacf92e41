// The one base error of Tether: a stable machine-readable code, a message for a person
// that names the value and the fix, and an optional cause with the internal detail.
export class TetherError<Code extends string = string> extends Error {
  override readonly name = 'TetherError';
  readonly code: Code;
  /** The field or argument the error is about, when there is one (ARM `target`). */
  readonly target: string | undefined;

  constructor(code: Code, message: string, options: { cause?: unknown; target?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.target = options.target;
  }
}

/**
 * By shape as well as by class: a program shipped as several bundles has one copy of this
 * class per bundle, and an error thrown in one is caught in another.
 */
export function isTetherError(value: unknown): value is TetherError {
  return (
    value instanceof TetherError ||
    (value instanceof Error &&
      value.name === 'TetherError' &&
      typeof (value as { code?: unknown }).code === 'string')
  );
}
