// The OData `$filter` ARM accepts on role assignment lists: `atScope()`, `principalId eq '…'`
// and `assignedTo('…')`, joined by `and`. Anything else is refused by name, never ignored.
import { ArmError } from '../api/arm-error.js';
import { checkGuid } from '../resources/arm-names.js';
import { andClauses } from '../resources/odata-clauses.js';

export interface AssignmentFilter {
  /** Only assignments at the scope and above it (default: also below it). */
  atScope: boolean;
  /** Only this principal's own assignments. */
  principalId: string | undefined;
  /** This principal's assignments and those of the groups it belongs to. */
  assignedTo: string | undefined;
}

const AT_SCOPE = /^atScope\(\)$/i;
const PRINCIPAL_ID = /^principalId\s+eq\s+'([^']*)'$/i;
const ASSIGNED_TO = /^assignedTo\('([^']*)'\)$/i;

export function parseAssignmentFilter(raw: string | undefined): AssignmentFilter {
  const filter: AssignmentFilter = {
    atScope: false,
    principalId: undefined,
    assignedTo: undefined,
  };
  if (raw === undefined || raw.trim() === '') return filter;
  for (const clause of andClauses(raw.trim())) {
    const part = clause.trim();
    const principal = PRINCIPAL_ID.exec(part);
    const assigned = ASSIGNED_TO.exec(part);
    if (AT_SCOPE.test(part)) filter.atScope = true;
    else if (principal !== null) filter.principalId = checkGuid(principal[1] ?? '', 'principalId');
    else if (assigned !== null) filter.assignedTo = checkGuid(assigned[1] ?? '', 'assignedTo');
    else {
      throw new ArmError(
        'BadRequest',
        `The $filter clause '${part.slice(0, 200)}' is not supported; use atScope(), principalId eq '{id}' or assignedTo('{id}'), joined by 'and'.`,
        { target: '$filter' },
      );
    }
  }
  if (filter.principalId !== undefined && filter.assignedTo !== undefined) {
    throw new ArmError(
      'BadRequest',
      'The $filter may name principalId or assignedTo(), not both.',
      {
        target: '$filter',
      },
    );
  }
  return filter;
}
