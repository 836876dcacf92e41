// Which command an enable runs: `commandToExecute` from the protected settings or the public
// ones, never both. Where it came from decides whether it may ever be shown.
import { HandlerError } from '../handler-kit/handler-error.js';
import type { HandlerSettings } from '../handler-kit/handler-settings.js';

export interface CommandToExecute {
  readonly command: string;
  /** A protected command is a secret: it appears in no status and no log. */
  readonly source: 'public' | 'protected';
}

export function commandToExecute(settings: HandlerSettings): CommandToExecute {
  const inPublic = settings.publicSettings.commandToExecute;
  const inProtected = settings.protectedSettings?.commandToExecute;
  if (inPublic !== undefined && inProtected !== undefined) {
    throw new HandlerError(
      'ERR_HANDLER_CONFIG',
      'commandToExecute is given in both the public and the protected settings; give it in one of them.',
    );
  }
  if (inProtected !== undefined) {
    if (typeof inProtected !== 'string' || inProtected.trim() === '') {
      throw new HandlerError(
        'ERR_HANDLER_CONFIG',
        'commandToExecute in the protected settings must be a non-empty string.',
      );
    }
    return { command: inProtected, source: 'protected' };
  }
  if (inPublic !== undefined) {
    if (typeof inPublic !== 'string' || inPublic.trim() === '') {
      throw new HandlerError(
        'ERR_HANDLER_CONFIG',
        'commandToExecute in the public settings must be a non-empty string.',
      );
    }
    return { command: inPublic, source: 'public' };
  }
  throw new HandlerError(
    'ERR_HANDLER_CONFIG',
    'commandToExecute is missing; give it in the public or the protected settings.',
  );
}
