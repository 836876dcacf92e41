// Runs a parser and turns what it threw into a finding unless it is the error the module
// documents; a TypeError or RangeError from deep inside a parser is a crash, not a refusal.
import { TetherError } from '@tether/protocol';

export type Accepts = (error: unknown) => boolean;

/** Modules that refuse with their own TetherError subclass (ArmError, AgentError, PolicyError…). */
export const tetherError: Accepts = (error) =>
  error instanceof TetherError && error.message.trim() !== '';

/** Modules that document a plain `Error` carrying the reason. */
export const plainError: Accepts = (error) =>
  error instanceof Error && error.constructor === Error && error.message.trim() !== '';

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const frame = error.stack?.split('\n')[1]?.trim() ?? '';
    return `${error.constructor.name}: ${error.message} ${frame}`.trim();
  }
  return `non-error thrown: ${String(error)}`;
}

export function expectOnly(accepts: Accepts, run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return accepts(error) ? undefined : `crash: ${describeError(error)}`;
  }
}

export async function expectOnlyAsync(
  accepts: Accepts,
  run: () => Promise<unknown>,
): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (error) {
    return accepts(error) ? undefined : `crash: ${describeError(error)}`;
  }
}
