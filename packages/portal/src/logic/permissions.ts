// Whether the signed-in person's permissions at a scope (from the API's own `permissions`
// route) allow an action: only to hide buttons. The API decides and refuses on its own.

export interface Permission {
  actions: readonly string[];
  notActions?: readonly string[];
}

function matches(pattern: string, action: string): boolean {
  const escaped = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${escaped}$`, 'i').test(action);
}

export function allows(permissions: readonly Permission[], action: string): boolean {
  return permissions.some(
    (p) =>
      p.actions.some((a) => matches(a, action)) &&
      !(p.notActions ?? []).some((n) => matches(n, action)),
  );
}

export const ACTIONS = {
  extensionWrite: 'Microsoft.HybridCompute/machines/extensions/write',
  extensionDelete: 'Microsoft.HybridCompute/machines/extensions/delete',
  roleAssignmentWrite: 'Microsoft.Authorization/roleAssignments/write',
  roleAssignmentDelete: 'Microsoft.Authorization/roleAssignments/delete',
  onboardingTokenWrite: 'Microsoft.Authorization/roleAssignments/write',
} as const;
