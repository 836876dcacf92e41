// The query of a generic resource list (`/resources`): the `$filter` clauses `az resource list`
// sends (`resourceGroup`, `resourceType`, `name`, `location`, `tagName`/`tagValue`, joined by
// `and`), `$expand` and `$top`. Anything else is refused by name, never ignored.
import { ArmError } from '../api/arm-error.js';
import { andClauses } from './odata-clauses.js';

export const RESOURCE_FILTER_FIELDS = [
  'resourceGroup',
  'resourceType',
  'name',
  'location',
  'tagName',
  'tagValue',
] as const;
export type ResourceFilterField = (typeof RESOURCE_FILTER_FIELDS)[number];

export const RESOURCE_EXPANDS = ['createdTime', 'changedTime', 'provisioningState'] as const;
export type ResourceExpand = (typeof RESOURCE_EXPANDS)[number];

/** ARM's own ceiling for `$top` on resource lists. */
export const MAX_RESOURCE_TOP = 1000;

export interface ResourceListQuery {
  /** Each field at most once; values as given, compared case-insensitively (tag values exactly). */
  filter: Partial<Record<ResourceFilterField, string>>;
  expand: ReadonlySet<ResourceExpand>;
  top: number | undefined;
}

const CLAUSE = /^(\w+)\s+eq\s+'((?:[^']|'')*)'$/i;

export function parseResourceListQuery(query: {
  filter: string | undefined;
  expand: string | undefined;
  top: string | undefined;
}): ResourceListQuery {
  return {
    filter: parseFilter(query.filter),
    expand: parseExpand(query.expand),
    top: parseTop(query.top),
  };
}

function parseFilter(raw: string | undefined): ResourceListQuery['filter'] {
  const filter: ResourceListQuery['filter'] = {};
  if (raw === undefined || raw.trim() === '') return filter;
  for (const clause of andClauses(raw.trim())) {
    const match = CLAUSE.exec(clause);
    const field = RESOURCE_FILTER_FIELDS.find((f) => f.toLowerCase() === match?.[1]?.toLowerCase());
    if (match === null || field === undefined) {
      throw new ArmError(
        'BadRequest',
        `The $filter clause '${clause.slice(0, 200)}' is not supported; use ${RESOURCE_FILTER_FIELDS.map((f) => `${f} eq '…'`).join(', ')}, joined by 'and'.`,
        { target: '$filter' },
      );
    }
    if (filter[field] !== undefined) {
      throw new ArmError('BadRequest', `The $filter names '${field}' twice.`, {
        target: '$filter',
      });
    }
    filter[field] = (match[2] ?? '').replace(/''/g, "'");
  }
  if (filter.tagValue !== undefined && filter.tagName === undefined) {
    throw new ArmError(
      'BadRequest',
      "The $filter has tagValue without tagName; name the tag too (tagName eq 'key' and tagValue eq 'value').",
      { target: '$filter' },
    );
  }
  return filter;
}

function parseExpand(raw: string | undefined): ReadonlySet<ResourceExpand> {
  const expand = new Set<ResourceExpand>();
  if (raw === undefined || raw.trim() === '') return expand;
  for (const part of raw.split(',')) {
    const name = RESOURCE_EXPANDS.find((e) => e.toLowerCase() === part.trim().toLowerCase());
    if (name === undefined) {
      throw new ArmError(
        'BadRequest',
        `The $expand value '${part.trim().slice(0, 100)}' is not supported; use any of ${RESOURCE_EXPANDS.join(', ')}, separated by commas.`,
        { target: '$expand' },
      );
    }
    expand.add(name);
  }
  return expand;
}

function parseTop(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const top = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(top >= 1 && top <= MAX_RESOURCE_TOP)) {
    throw new ArmError(
      'BadRequest',
      `The $top value '${raw.slice(0, 20)}' is not valid; use a whole number from 1 to ${MAX_RESOURCE_TOP}.`,
      { target: '$top' },
    );
  }
  return top;
}
