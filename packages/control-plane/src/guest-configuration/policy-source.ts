// What guest configuration and compliance need from policy: the entries that apply to a
// machine and a notice when assignments, exemptions or definitions change.
import type { PolicyEntry, PolicyResourceView } from '../policy/index.js';

export interface PolicyChangeNotice {
  kind: 'definition' | 'setDefinition' | 'assignment' | 'exemption';
  change: 'created' | 'updated' | 'deleted';
  /** Lower-cased ARM id of what changed. */
  id: string;
  /** Its normalized scope. */
  scope: string;
}

export interface PolicySource {
  /** Every entry whose rule matches the resource, with its exemption if one is active now. */
  applicablePolicies(view: PolicyResourceView): Promise<PolicyEntry[]>;
  /** Returns the function that stops listening. */
  onChange(listener: (change: PolicyChangeNotice) => void): () => void;
}
