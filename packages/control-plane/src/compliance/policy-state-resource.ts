// The shapes Microsoft.PolicyInsights answers with: a policy state row and a summary, as
// @azure/arm-policyinsights parses them.
import type { PolicyStatesTable } from '../store/schema.js';

export const POLICY_INSIGHTS_API_VERSIONS = ['2019-10-01', '2024-10-01'] as const;

export const POLICY_INSIGHTS_ACTIONS = {
  queryResults: 'Microsoft.PolicyInsights/policyStates/queryResults/read',
  summarize: 'Microsoft.PolicyInsights/policyStates/summarize/read',
  triggerEvaluation: 'Microsoft.PolicyInsights/policyStates/triggerEvaluation/action',
  operationResults: 'Microsoft.PolicyInsights/asyncOperationResults/read',
} as const;

export type StateRow = PolicyStatesTable;

export function renderPolicyState(row: StateRow): Record<string, unknown> {
  return {
    timestamp: row.timestamp,
    resourceId: row.machine_id,
    policyAssignmentId: row.policy_assignment_id,
    policyAssignmentName: row.policy_assignment_name,
    policyAssignmentScope: scopeOf(row.policy_assignment_id),
    policyDefinitionId: row.policy_definition_id,
    policyDefinitionName: row.policy_definition_id.split('/').at(-1) ?? '',
    policyDefinitionReferenceId: row.reference_id,
    policySetDefinitionId: row.policy_set_definition_id ?? '',
    policySetDefinitionName: row.policy_set_definition_id?.split('/').at(-1) ?? '',
    isCompliant: row.state === 'Compliant',
    complianceState: row.state,
    resourceType: 'Microsoft.HybridCompute/machines',
    resourceGroup: row.resource_group,
    subscriptionId: row.subscription_id,
    policyDefinitionAction: row.definition_action,
  };
}

function scopeOf(policyAssignmentId: string): string {
  const at = policyAssignmentId.toLowerCase().lastIndexOf('/providers/microsoft.authorization/');
  return at <= 0 ? '/' : policyAssignmentId.slice(0, at);
}
