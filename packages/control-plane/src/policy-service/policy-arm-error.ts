// The policy language's errors as ARM 400s, keeping the JSON path as the target.
import { ArmError, type ArmErrorCode } from '../api/arm-error.js';
import { PolicyError, type PolicyErrorCode } from '../policy/index.js';

const CODES: Readonly<Record<PolicyErrorCode, ArmErrorCode>> = {
  ERR_INVALID_POLICY_RULE: 'InvalidPolicyRule',
  ERR_INVALID_POLICY_PARAMETERS: 'InvalidPolicyParameters',
  ERR_INVALID_POLICY_SET: 'InvalidPolicySetDefinition',
};

/** Runs `parse`; a PolicyError becomes the ARM error a client sees. */
export function asArm<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof PolicyError) {
      throw new ArmError(CODES[error.code], `The request content is invalid: ${error.message}.`, {
        ...(error.target === undefined ? {} : { target: error.target }),
        cause: error,
      });
    }
    throw error;
  }
}
