// The policy language, pure: definitions, initiatives, parameters, assignments, exemptions
// and their evaluation against plain resource views. Storage and HTTP live in policy-service.
export {
  ALIASES,
  parseField,
  readField,
  type FieldRef,
  type PolicyResourceView,
} from './policy-aliases.js';
export {
  assignmentCovers,
  compileAssignment,
  type AssignedPolicy,
  type AssignmentRecord,
  type CompiledAssignment,
  type CompiledMember,
  type EnforcementMode,
} from './policy-assignment.js';
export {
  evaluateCondition,
  parseCondition,
  type Condition,
  type Operator,
} from './policy-condition.js';
export {
  parsePolicyDefinition,
  type GuestConfigurationMetadata,
  type PolicyDefinitionDocument,
} from './policy-definition.js';
export { PolicyError, type PolicyErrorCode } from './policy-error.js';
export {
  applicablePolicies,
  denyingEntry,
  evaluatePolicies,
  type PolicyEntry,
  type PolicyVerdicts,
} from './policy-evaluation.js';
export {
  exemptionFor,
  isExemptionActive,
  type ExemptionCategory,
  type ExemptionRecord,
} from './policy-exemption.js';
export { ParameterDefinitions } from './policy-parameters.js';
export {
  EFFECTS,
  effectOf,
  evaluatePolicyRule,
  parsePolicyRule,
  type EffectDetails,
  type PolicyEffect,
  type PolicyRule,
} from './policy-rule.js';
export {
  parsePolicySet,
  type PolicySetDocument,
  type PolicySetMember,
} from './policy-set-definition.js';
export {
  extensionView,
  imageOfferOf,
  machineView,
  EXTENSION_TYPE,
  MACHINE_TYPE,
} from './resource-views.js';
export * from './built-in-policies.js';
