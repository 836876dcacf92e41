// What guest configuration and compliance need from policy: the entries that apply to a
// machine and a notice when assignments, exemptions or definitions change.
import type { PolicyEvaluator } from './gc-machine-match.js';

export interface PolicyChangeNotice {
  kind: 'definition' | 'setDefinition' | 'assignment' | 'exemption';
  change: 'created' | 'updated' | 'deleted';
  /** Lower-cased ARM id of what changed. */
  id: string;
  /** Its normalized scope. */
  scope: string;
}

export interface PolicySource {
  /**
   * The policy as it stands now, ready to evaluate any number of resources: every entry whose
   * rule matches a resource, and every Audit or Deny entry covering it whose rule does not; each
   * with its exemption if one is active now.
   */
  evaluator(): Promise<PolicyEvaluator>;
  /** Returns the function that stops listening. */
  onChange(listener: (change: PolicyChangeNotice) => void): () => void;
}
