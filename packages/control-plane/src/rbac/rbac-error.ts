// The error codes the authorization engine raises for bad input; every one of them means
// "nothing was changed" and maps to an HTTP 400 at the API edge.
import { TetherError } from '@tether/protocol';

export type RbacErrorCode =
  | 'ERR_INVALID_SCOPE'
  | 'ERR_INVALID_ACTION_PATTERN'
  | 'ERR_INVALID_ROLE_DEFINITION'
  | 'ERR_INVALID_ROLE_ASSIGNMENT'
  | 'ERR_INVALID_PRINCIPAL'
  | 'ERR_BUILT_IN_ROLE_READ_ONLY';

export class RbacError extends TetherError<RbacErrorCode> {}
