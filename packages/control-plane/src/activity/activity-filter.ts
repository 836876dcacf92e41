// The OData `$filter` of an activity log query, as the ARM activity log takes it:
// `eventTimestamp ge '…' [and eventTimestamp le '…'] [and resourceGroupName eq '…' | and
// resourceUri eq '…']`. Every refusal quotes the clause at fault.
import { ArmError } from '../api/arm-error.js';
import { checkResourceGroupName } from '../resources/arm-names.js';
import { parseScope } from '../resources/arm-scope.js';
import { andClauses } from '../resources/odata-clauses.js';

export interface ActivityFilter {
  from: number;
  to: number;
  resourceGroup: string | undefined;
  /** Normalized scope of the resource. */
  resourceUri: string | undefined;
}

const CLAUSE = /^(\w+)\s+(eq|ge|le)\s+'([^']*)'$/i;
const EXAMPLE =
  "eventTimestamp ge '2026-01-01T00:00:00Z' and eventTimestamp le '2026-01-02T00:00:00Z'";

function bad(why: string): ArmError {
  return new ArmError('BadRequest', `The $filter is not valid: ${why}. Example: ${EXAMPLE}.`, {
    target: '$filter',
  });
}

/** `now` bounds an open range, as ARM does when only the start is given. */
export function parseActivityFilter(
  raw: string | undefined,
  subscriptionId: string,
  now: number,
): ActivityFilter {
  if (raw === undefined || raw.trim() === '')
    throw bad("it is required and must give 'eventTimestamp ge'");
  let from: number | undefined;
  let to: number | undefined;
  let resourceGroup: string | undefined;
  let resourceUri: string | undefined;
  for (const clause of andClauses(raw.trim())) {
    const match = CLAUSE.exec(clause);
    if (match === null)
      throw bad(
        `the clause "${clause.slice(0, 200)}" is not of the form <field> eq|ge|le '<value>'`,
      );
    const [, field = '', op = '', value = ''] = match;
    const key = `${field.toLowerCase()} ${op.toLowerCase()}`;
    switch (key) {
      case 'eventtimestamp ge':
        from = timestamp(value, clause);
        break;
      case 'eventtimestamp le':
        to = timestamp(value, clause);
        break;
      case 'resourcegroupname eq':
        resourceGroup = checkResourceGroupName(value).toLowerCase();
        break;
      case 'resourceuri eq':
      case 'resourceid eq':
        resourceUri = parseScope(value).scope;
        if (!resourceUri.startsWith(`/subscriptions/${subscriptionId}/`)) {
          throw bad(
            `"${clause.slice(0, 200)}" names a resource outside subscription ${subscriptionId}`,
          );
        }
        break;
      default:
        throw bad(
          `"${clause.slice(0, 200)}" is not supported; use eventTimestamp ge/le, resourceGroupName eq or resourceUri eq`,
        );
    }
  }
  if (from === undefined) throw bad("'eventTimestamp ge' is required");
  if (resourceGroup !== undefined && resourceUri !== undefined) {
    throw bad('give resourceGroupName or resourceUri, not both');
  }
  const end = to ?? now;
  if (end < from) throw bad('the end of the time range is before its start');
  return { from, to: end, resourceGroup, resourceUri };
}

function timestamp(value: string, clause: string): number {
  const time = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(value)
    ? Date.parse(value)
    : Number.NaN;
  if (Number.isNaN(time))
    throw bad(
      `"${clause.slice(0, 200)}" does not hold an ISO 8601 time such as 2026-01-01T00:00:00Z`,
    );
  return time;
}
