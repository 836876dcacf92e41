// ARM ids of policy resources and the names ARM accepts for them.
import { ArmError } from '../api/arm-error.js';

export type PolicyResourceKind = 'definition' | 'set' | 'assignment' | 'exemption';

export const POLICY_COLLECTIONS: Readonly<Record<PolicyResourceKind, string>> = {
  definition: 'policyDefinitions',
  set: 'policySetDefinitions',
  assignment: 'policyAssignments',
  exemption: 'policyExemptions',
};

export const POLICY_RESOURCE_TYPES: Readonly<Record<PolicyResourceKind, string>> = {
  definition: 'Microsoft.Authorization/policyDefinitions',
  set: 'Microsoft.Authorization/policySetDefinitions',
  assignment: 'Microsoft.Authorization/policyAssignments',
  exemption: 'Microsoft.Authorization/policyExemptions',
};

/** `{scope}/providers/Microsoft.Authorization/{collection}/{name}`; '/' is the tenant root. */
export function policyResourceId(kind: PolicyResourceKind, scope: string, name: string): string {
  return `${scope === '/' ? '' : scope}/providers/Microsoft.Authorization/${POLICY_COLLECTIONS[kind]}/${name}`;
}

/** What kind a referenced definition id is, from its collection segment; undefined for neither. */
export function definitionKindOf(id: string): 'definition' | 'set' | undefined {
  const collection =
    /\/providers\/microsoft\.authorization\/(policydefinitions|policysetdefinitions)\/[^/]+$/i.exec(
      id,
    )?.[1];
  if (collection === undefined) return undefined;
  return collection.toLowerCase() === 'policydefinitions' ? 'definition' : 'set';
}

/** The scope an id of this kind lives at, normalized; undefined when it is no such id. */
export function scopeOfPolicyId(id: string): string | undefined {
  const at = id.toLowerCase().lastIndexOf('/providers/microsoft.authorization/');
  if (at < 0) return undefined;
  return at === 0 ? '/' : id.slice(0, at).toLowerCase();
}

const MAX_NAME: Readonly<Record<PolicyResourceKind, number>> = {
  definition: 128,
  set: 128,
  assignment: 64,
  exemption: 64,
};

/** 1-128 (assignments and exemptions: 1-64) characters, none of `<>*%&:\?+/#`, no trailing space or dot. */
export function checkPolicyName(kind: PolicyResourceKind, name: string): string {
  const max = MAX_NAME[kind];
  const decoded = name;
  if (
    decoded.length === 0 ||
    decoded.length > max ||
    /[<>*%&:\\?+/#\p{Cc}]/u.test(decoded) ||
    /[ .]$/.test(decoded)
  ) {
    throw new ArmError(
      'InvalidResourceName',
      `The ${POLICY_RESOURCE_TYPES[kind]} name '${decoded.slice(0, 140)}' is not valid: use 1-${max} characters without <>*%&:\\?+/# and not ending in a space or '.'.`,
      { target: 'name' },
    );
  }
  return decoded;
}
