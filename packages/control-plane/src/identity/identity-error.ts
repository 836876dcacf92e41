// Errors of the identity service's own configuration and stored state (not of a request:
// those are OAuth errors at the token endpoint and ARM 401s elsewhere).
import { TetherError } from '@tether/protocol';

export type IdentityErrorCode =
  'ERR_PUBLIC_URL' | 'ERR_SIGNING_KEY' | 'ERR_KEY_ENCRYPTION_KEY' | 'ERR_NOT_INITIALIZED';

export class IdentityError extends TetherError<IdentityErrorCode> {}
