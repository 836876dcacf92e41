// An assignment compiled against what it assigns: one rule per member definition, with its
// parameter values resolved and checked, ready to evaluate. Compiling is also how an
// assignment's parameters are validated before it is stored.
import { isWithinScope } from '../rbac/scope.js';
import type { GuestConfigurationMetadata, PolicyDefinitionDocument } from './policy-definition.js';
import { effectWith, type PolicyEffect, type PolicyRule } from './policy-rule.js';
import { memberValues, type PolicySetDocument } from './policy-set-definition.js';

export type EnforcementMode = 'Default' | 'DoNotEnforce';

/** An assignment as stored, with normalized (lower-case) scopes and ids. */
export interface AssignmentRecord {
  /** The assignment's ARM id as rendered. */
  readonly id: string;
  readonly name: string;
  readonly displayName: string | undefined;
  readonly scope: string;
  readonly notScopes: readonly string[];
  readonly enforcementMode: EnforcementMode;
  /** Lower-cased id of a policy definition or policy set definition. */
  readonly policyDefinitionId: string;
  /** `{name: {value}}` as given. */
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** What an assignment names, looked up by the caller. */
export type AssignedPolicy =
  | {
      readonly kind: 'definition';
      readonly id: string;
      readonly document: PolicyDefinitionDocument;
    }
  | {
      readonly kind: 'set';
      readonly id: string;
      readonly document: PolicySetDocument;
      /** Its members' definitions by lower-cased id. */
      readonly definitions: ReadonlyMap<string, PolicyDefinitionDocument>;
    };

export interface CompiledMember {
  readonly policyDefinitionId: string;
  readonly policySetDefinitionId: string | undefined;
  readonly policyDefinitionReferenceId: string | undefined;
  readonly rule: PolicyRule;
  readonly effect: PolicyEffect;
  /** Parameter values by lower-cased name, defaults filled in. */
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly guestConfiguration: GuestConfigurationMetadata | undefined;
}

export interface CompiledAssignment {
  readonly record: AssignmentRecord;
  readonly members: readonly CompiledMember[];
}

/** Throws PolicyError naming `properties.parameters.{name}` for values that do not fit. */
export function compileAssignment(
  record: AssignmentRecord,
  assigned: AssignedPolicy,
): CompiledAssignment {
  const path = 'properties.parameters';
  if (assigned.kind === 'definition') {
    const parameters = assigned.document.parameters.resolve(record.parameters, path);
    const rule = assigned.document.policyRule;
    return {
      record,
      members: [
        {
          policyDefinitionId: assigned.id,
          policySetDefinitionId: undefined,
          policyDefinitionReferenceId: undefined,
          rule,
          effect: effectWith(rule, parameters, path),
          parameters,
          guestConfiguration: assigned.document.guestConfiguration,
        },
      ],
    };
  }
  const setValues = assigned.document.parameters.resolve(record.parameters, path);
  const members = assigned.document.members.map((member): CompiledMember => {
    const definition = assigned.definitions.get(member.policyDefinitionId);
    if (definition === undefined)
      throw new Error(`member ${member.policyDefinitionId} was not looked up`);
    // A member's values come from the set's; a set value that does not suit the member is
    // the assignment's error, named by the member's reference id.
    const memberPath = `${path} (member '${member.policyDefinitionReferenceId}')`;
    const parameters = definition.parameters.resolve(memberValues(member, setValues), memberPath);
    return {
      policyDefinitionId: member.policyDefinitionId,
      policySetDefinitionId: assigned.id,
      policyDefinitionReferenceId: member.policyDefinitionReferenceId,
      rule: definition.policyRule,
      effect: effectWith(definition.policyRule, parameters, memberPath),
      parameters,
      guestConfiguration: definition.guestConfiguration,
    };
  });
  return { record, members };
}

/** The assignment's scope is the resource or above it, and no notScope is. */
export function assignmentCovers(
  assignment: Pick<AssignmentRecord, 'scope' | 'notScopes'>,
  resourceId: string,
): boolean {
  const id = resourceId.toLowerCase();
  return (
    isWithinScope(id, assignment.scope) && !assignment.notScopes.some((n) => isWithinScope(id, n))
  );
}
