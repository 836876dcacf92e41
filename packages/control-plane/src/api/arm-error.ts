// ARM-shaped errors: one typed table from code to HTTP status, and the error body ARM clients parse.
import { TetherError } from '@tether/protocol';

export const ARM_ERROR_STATUS = {
  AuthenticationFailed: 401,
  InvalidAuthenticationToken: 401,
  InvalidAuthenticationTokenAudience: 401,
  ExpiredAuthenticationToken: 401,
  AuthorizationFailed: 403,
  MissingApiVersionParameter: 400,
  InvalidApiVersionParameter: 400,
  InvalidRequestContent: 400,
  InvalidResourceName: 400,
  InvalidScope: 400,
  BadRequest: 400,
  SubscriptionNotFound: 404,
  ResourceGroupNotFound: 404,
  ResourceNotFound: 404,
  InvalidResourceNamespace: 404,
  RoleDefinitionDoesNotExist: 404,
  RoleAssignmentNotFound: 404,
  PrincipalNotFound: 400,
  RoleAssignmentExists: 409,
  RoleDefinitionHasAssignments: 409,
  RoleAssignmentUpdateNotPermitted: 400,
  RoleDefinitionWithSameNameExists: 409,
  InvalidResourceLocation: 409,
  InvalidResourceGroupLocation: 409,
  Conflict: 409,
  ExtensionPackageNotFound: 400,
  AgentPackageNotFound: 400,
  MachineHasNoKey: 400,
  MethodNotAllowed: 405,
  RequestEntityTooLarge: 413,
  RequestUriTooLong: 414,
  UnsupportedMediaType: 415,
  UpgradeRequired: 426,
  TooManyRequests: 429,
  PolicyDefinitionNotFound: 404,
  PolicySetDefinitionNotFound: 404,
  PolicyAssignmentNotFound: 404,
  PolicyExemptionNotFound: 404,
  InvalidPolicyRule: 400,
  InvalidPolicyParameters: 400,
  InvalidPolicySetDefinition: 400,
  InvalidPolicyDefinitionReference: 400,
  InvalidPolicyAssignmentReference: 400,
  InvalidDeletePolicyDefinitionRequest: 400,
  InvalidDeletePolicySetDefinitionRequest: 400,
  RequestDisallowedByPolicy: 403,
  InternalServerError: 500,
  ServiceUnavailable: 503,
  InsufficientStorage: 507,
} as const satisfies Record<string, number>;

export type ArmErrorCode = keyof typeof ARM_ERROR_STATUS;

export interface ArmErrorBody {
  error: { code: string; message: string; target?: string; details?: ArmErrorBody['error'][] };
}

export class ArmError extends TetherError<ArmErrorCode> {
  get status(): number {
    return ARM_ERROR_STATUS[this.code];
  }

  toBody(): ArmErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.target === undefined ? {} : { target: this.target }),
      },
    };
  }
}

/** 429: too many failed attempts; the answer carries `Retry-After`. */
export class TooManyRequestsError extends ArmError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    target?: string,
  ) {
    super('TooManyRequests', message, target === undefined ? {} : { target });
  }
}
