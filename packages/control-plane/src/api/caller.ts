// Who is calling: the principal a verified access token names.
import type { PrincipalType } from '../rbac/types.js';

export interface Caller {
  /** Object id of the principal. */
  principalId: string;
  principalType: PrincipalType;
  /** Application id for service principals, user principal name for users. */
  name: string;
  /** Token claims as verified, for the activity log and `Microsoft.Authorization/permissions`. */
  claims: Readonly<Record<string, unknown>>;
}

/** Turns an `Authorization` header into a caller, or throws an ArmError with status 401. */
export interface Authenticator {
  authenticate(authorization: string | undefined): Promise<Caller>;
  /**
   * The caller at once when the header carries a token verified recently, as most requests
   * do; undefined when authenticate() must decide.
   */
  known?(authorization: string | undefined): Caller | undefined;
}
