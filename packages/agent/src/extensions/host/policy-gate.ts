// The one lock `azcmagent config set|clear` and the extension service share: the service holds
// the configuration lock from its last policy check until the handler's first command has
// started, so a policy change that completed before that command starts is always seen.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { acquireFileLock } from '../../config/file-lock.js';
import type { OperationOutcome, OperationPermit } from '../extension-host.js';
import type { HandlerContext } from './handler-context.js';
import { failed, failedFromError } from './outcomes.js';

export type PolicyGate =
  | { readonly refused: OperationOutcome }
  | { readonly refused?: undefined; readonly release: () => void };

/**
 * Takes the configuration lock and asks `permit`. Refused (or the lock not had): the lock is
 * released and the outcome says why. Allowed: the caller releases once the command has started,
 * and again in a `finally` (release is idempotent).
 */
export async function passPolicyGate(
  context: HandlerContext,
  permit: OperationPermit,
  purpose: string,
): Promise<PolicyGate> {
  let release: () => void;
  try {
    mkdirSync(dirname(context.paths.localConfigLock), { recursive: true, mode: 0o755 });
    release = await acquireFileLock(context.paths.localConfigLock, {
      clock: context.clock,
      timeoutMs: context.configLockTimeoutMs,
      purpose: `the extension service ${purpose}`,
    });
  } catch (error) {
    return { refused: failedFromError(error, context.clock.now()) };
  }
  let refused: ReturnType<OperationPermit>;
  try {
    refused = permit();
  } catch (error) {
    release();
    return { refused: failedFromError(error, context.clock.now()) };
  }
  if (refused !== undefined) {
    release();
    return { refused: failed(refused.code, refused.message, context.clock.now()) };
  }
  return { release };
}
