// The `$filter` of assignment and exemption lists: `atScope()`, `atExactScope()`,
// `excludeExpired()` (exemptions) and `policyDefinitionId eq '…'` / `policyAssignmentId eq '…'`.
import { ArmError } from '../api/arm-error.js';
import { isWithinScope } from '../rbac/scope.js';
import { andClauses } from '../resources/odata-clauses.js';

export interface PolicyListFilter {
  /** 'all': at, above and below the scope; 'atScope': at and above; 'exact': at only. */
  reach: 'all' | 'atScope' | 'exact';
  excludeExpired: boolean;
  /** Lower-cased id the `eq` clause names. */
  id: string | undefined;
}

export function parsePolicyListFilter(
  raw: string | undefined,
  of: 'assignment' | 'exemption',
): PolicyListFilter {
  const filter: PolicyListFilter = { reach: 'all', excludeExpired: false, id: undefined };
  if (raw === undefined || raw.trim() === '') return filter;
  const idField = of === 'assignment' ? 'policyDefinitionId' : 'policyAssignmentId';
  const eq = new RegExp(`^${idField}\\s+eq\\s+'([^']*)'$`, 'i');
  for (const clause of andClauses(raw.trim())) {
    const match = eq.exec(clause);
    if (/^atScope\(\)$/i.test(clause)) filter.reach = 'atScope';
    else if (/^atExactScope\(\)$/i.test(clause)) filter.reach = 'exact';
    else if (of === 'exemption' && /^excludeExpired\(\)$/i.test(clause))
      filter.excludeExpired = true;
    else if (match !== null) filter.id = (match[1] ?? '').toLowerCase();
    else {
      const accepted =
        of === 'assignment'
          ? 'atScope(), atExactScope()'
          : 'atScope(), atExactScope(), excludeExpired()';
      throw new ArmError(
        'BadRequest',
        `The $filter clause '${clause.slice(0, 200)}' is not supported; use ${accepted} or ${idField} eq '{id}', joined by 'and'.`,
        { target: '$filter' },
      );
    }
  }
  return filter;
}

/** Whether something at `at` belongs in a list at `scope` with this reach. */
export function inReach(reach: PolicyListFilter['reach'], scope: string, at: string): boolean {
  if (reach === 'exact') return at === scope;
  if (isWithinScope(scope, at)) return true;
  return reach === 'all' && isWithinScope(at, scope);
}
