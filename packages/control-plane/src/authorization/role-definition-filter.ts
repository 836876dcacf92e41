// The OData `$filter` ARM accepts on role definition lists: `roleName eq '…'` and
// `type eq 'BuiltInRole' | 'CustomRole'`, joined by `and`.
import { ArmError } from '../api/arm-error.js';
import type { RoleDefinition } from '../rbac/types.js';
import { andClauses } from '../resources/odata-clauses.js';

export interface DefinitionFilter {
  roleName: string | undefined;
  roleType: RoleDefinition['roleType'] | undefined;
}

const ROLE_NAME = /^roleName\s+eq\s+'((?:[^']|'')*)'$/i;
const TYPE = /^type\s+eq\s+'(BuiltInRole|CustomRole)'$/i;

export function parseDefinitionFilter(raw: string | undefined): DefinitionFilter {
  const filter: DefinitionFilter = { roleName: undefined, roleType: undefined };
  if (raw === undefined || raw.trim() === '') return filter;
  for (const clause of andClauses(raw.trim())) {
    const part = clause.trim();
    const name = ROLE_NAME.exec(part);
    const type = TYPE.exec(part);
    if (name !== null) filter.roleName = (name[1] ?? '').replaceAll("''", "'");
    else if (type !== null)
      filter.roleType =
        (type[1] ?? '').toLowerCase() === 'builtinrole' ? 'BuiltInRole' : 'CustomRole';
    else {
      throw new ArmError(
        'BadRequest',
        `The $filter clause '${part.slice(0, 200)}' is not supported; use roleName eq '{name}' or type eq 'BuiltInRole'|'CustomRole', joined by 'and'.`,
        { target: '$filter' },
      );
    }
  }
  return filter;
}

export function matchesDefinitionFilter(role: RoleDefinition, filter: DefinitionFilter): boolean {
  if (filter.roleType !== undefined && role.roleType !== filter.roleType) return false;
  return (
    filter.roleName === undefined || role.roleName.toLowerCase() === filter.roleName.toLowerCase()
  );
}
