// What the rest of the control plane asks of policy: the entries that apply to a resource
// (for guest configuration and compliance), every assignment (to match machines onboarded
// later), change notices, and the Deny check on writes.
import type { Kysely } from 'kysely';
import { ArmError } from '../api/arm-error.js';
import type { Clock } from '../clock.js';
import {
  denyingEntry,
  evaluatePolicies,
  type AssignmentRecord,
  type PolicyEntry,
  type PolicyVerdicts,
  type PolicyResourceView,
} from '../policy/index.js';
import type { Database } from '../store/schema.js';
import { assignmentRecord, exemptionRecord, PolicyCatalog } from './policy-catalog.js';
import { PolicyChanges, type PolicyChangeListener } from './policy-changes.js';
import { PolicyStore } from './policy-store.js';

export class PolicyService {
  private readonly store: PolicyStore;
  private readonly catalog: PolicyCatalog;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {
    this.store = new PolicyStore(db);
    this.catalog = new PolicyCatalog(this.store);
  }

  /**
   * Every policy entry whose `if` matches the resource: one per assignment of a definition,
   * one per matching member of an assigned initiative. Entries carry their effect,
   * enforcement mode, guest configuration (name, version, assignment type, parameters) and
   * the active exemption covering the resource, if any. `view.id` must be the resource id.
   */
  async applicablePolicies(view: PolicyResourceView): Promise<PolicyEntry[]> {
    return (await this.evaluatePolicies(view)).matching;
  }

  /** The matching entries, and the Audit and Deny ones the resource complies with. */
  async evaluatePolicies(view: PolicyResourceView): Promise<PolicyVerdicts> {
    const rows = await this.store.assignmentsAbove(view.id);
    if (rows.length === 0) return { matching: [], compliant: [] };
    const compiled = await this.catalog.compile(rows);
    const exemptions = (await this.store.exemptionsOf(rows.map((r) => r.id))).map(exemptionRecord);
    return evaluatePolicies(view, compiled, exemptions, this.clock.now());
  }

  /**
   * The policy as it stands now, loaded and compiled once, to evaluate many resources with: what
   * evaluatePolicies answers for each, without a query per resource.
   */
  async evaluator(): Promise<(view: PolicyResourceView) => PolicyVerdicts> {
    const compiled = await this.catalog.compile(await this.store.assignments());
    const exemptions = (await this.store.exemptions()).map(exemptionRecord);
    const now = this.clock.now();
    return (view) => evaluatePolicies(view, compiled, exemptions, now);
  }

  /** Every assignment with its scope and notScopes, lower-cased. */
  async assignments(): Promise<AssignmentRecord[]> {
    return (await this.store.assignments()).map(assignmentRecord);
  }

  /** Called after each create, change or delete of a definition, set, assignment or exemption. */
  onChange(listener: PolicyChangeListener): () => void {
    return PolicyChanges.of(this.db).subscribe(listener);
  }

  /**
   * Refuses a write that an enforced Deny assignment covers, with 403
   * RequestDisallowedByPolicy naming the assignment; returns quietly otherwise.
   */
  async refuseIfDenied(view: PolicyResourceView): Promise<void> {
    const denied = denyingEntry(await this.applicablePolicies(view));
    if (denied === undefined) return;
    const name = denied.policyAssignmentDisplayName ?? denied.policyAssignmentName;
    throw new ArmError(
      'RequestDisallowedByPolicy',
      `Resource '${view.name}' was disallowed by policy. Policy identifiers: '[{"policyAssignment":{"name":"${name}","id":"${denied.policyAssignmentId}"},"policyDefinition":{"id":"${denied.policyDefinitionId}"}${denied.policyDefinitionReferenceId === undefined ? '' : `,"policyDefinitionReferenceId":"${denied.policyDefinitionReferenceId}"`}}]'.`,
      { target: view.id },
    );
  }
}
