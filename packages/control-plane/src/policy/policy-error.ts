// The errors the policy language raises for bad input; each names the JSON path at fault and
// means "nothing was stored". The API edge turns them into ARM 400s.
import { TetherError } from '@tether/protocol';

export type PolicyErrorCode =
  /** A policyRule: unknown operator, alias or effect, bad shape, bad parameter reference. */
  | 'ERR_INVALID_POLICY_RULE'
  /** Parameter definitions or values: wrong type, not an allowed value, missing, unknown. */
  | 'ERR_INVALID_POLICY_PARAMETERS'
  /** A policy set's members: duplicate reference ids, unknown member parameters. */
  | 'ERR_INVALID_POLICY_SET';

export class PolicyError extends TetherError<PolicyErrorCode> {
  /** `target` is the JSON path of the offending value, e.g. `properties.policyRule.if.allOf[1]`. */
  constructor(code: PolicyErrorCode, path: string, why: string) {
    super(code, `'${path}' ${why}`, { target: path });
  }
}
