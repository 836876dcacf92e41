// The $filter policy states accept: `field eq 'value'` clauses joined by `and`, on the fields
// people filter compliance by. Anything else is refused with what is accepted.
import { ArmError } from '../api/arm-error.js';
import { andClauses } from '../resources/odata-clauses.js';
import type { StateFilter } from './policy-state-query.js';

const FIELDS: Record<string, keyof StateFilter> = {
  compliancestate: 'complianceState',
  resourceid: 'resourceId',
  policyassignmentname: 'policyAssignmentName',
};

export function parseStateFilter(raw: string | undefined): StateFilter {
  const filter: StateFilter = {};
  if (raw === undefined || raw.trim() === '') return filter;
  for (const clause of andClauses(raw.trim())) {
    const match = /^\(?\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*\)?$/i.exec(clause.trim());
    const field = FIELDS[match?.[1]?.toLowerCase() ?? ''];
    if (match === null || field === undefined) {
      throw new ArmError(
        'BadRequest',
        `The $filter clause '${clause.slice(0, 120)}' is not supported; use complianceState, resourceId or policyAssignmentName eq '<value>', joined by 'and'.`,
        { target: '$filter' },
      );
    }
    filter[field] = (match[2] ?? '').replace(/''/g, "'");
  }
  return filter;
}
