// The machines list's query options, OData as ARM lists spell them: `$filter` (status,
// resourceGroup, osType, tagName/tagValue, contains(name,'…')), `$orderby` (one field, asc or
// desc), `$top` and the `$skiptoken` of the page before. A list asked with none of them pages by
// id as before; with any, the answer also carries `@odata.count`, the machines that match.
import { ArmError } from '../api/arm-error.js';
import type { MachineStatus } from '../machines/machine-status.js';
import { andClauses } from './odata-clauses.js';

export const MACHINE_SORT_FIELDS = [
  'name',
  'resourceGroup',
  'status',
  'osName',
  'lastStatusChange',
] as const;
export type MachineSortField = (typeof MACHINE_SORT_FIELDS)[number];

const STATUSES: readonly MachineStatus[] = ['Connected', 'Disconnected', 'Expired'];
export const MAX_MACHINE_TOP = 1000;

export interface MachineFilter {
  status?: MachineStatus;
  resourceGroup?: string;
  osType?: string;
  tagName?: string;
  tagValue?: string;
  nameContains?: string;
}

export interface MachineListQuery {
  filter: MachineFilter;
  orderBy: { field: MachineSortField; descending: boolean };
  top: number | undefined;
}

const EQ = /^(\w+)\s+eq\s+'((?:[^']|'')*)'$/i;
const CONTAINS = /^contains\(\s*name\s*,\s*'((?:[^']|'')*)'\s*\)$/i;
const ORDER = /^(\w+)(?:\s+(asc|desc))?$/i;

function badFilter(message: string): ArmError {
  return new ArmError('BadRequest', message, { target: '$filter' });
}

/** The query asked for, or undefined when the request uses none of these options. */
export function parseMachineListQuery(query: {
  $filter?: string | undefined;
  $orderby?: string | undefined;
  $top?: string | undefined;
}): MachineListQuery | undefined {
  if (query.$filter === undefined && query.$orderby === undefined && query.$top === undefined) {
    return undefined;
  }
  return {
    filter: query.$filter === undefined ? {} : parseFilter(query.$filter),
    orderBy: parseOrderBy(query.$orderby),
    top: parseTop(query.$top),
  };
}

function parseFilter(raw: string): MachineFilter {
  const filter: MachineFilter = {};
  for (const clause of andClauses(raw)) {
    const contains = CONTAINS.exec(clause);
    if (contains !== null) {
      filter.nameContains = unquote(contains[1] ?? '').toLowerCase();
      continue;
    }
    const eq = EQ.exec(clause);
    const field = eq?.[1]?.toLowerCase();
    const value = unquote(eq?.[2] ?? '');
    switch (field) {
      case 'status': {
        const status = STATUSES.find((s) => s.toLowerCase() === value.toLowerCase());
        if (status === undefined) {
          throw badFilter(
            `The status '${value.slice(0, 40)}' is not one of ${STATUSES.join(', ')}.`,
          );
        }
        filter.status = status;
        break;
      }
      case 'resourcegroup':
        filter.resourceGroup = value.toLowerCase();
        break;
      case 'ostype':
        filter.osType = value.toLowerCase();
        break;
      case 'tagname':
        filter.tagName = value;
        break;
      case 'tagvalue':
        filter.tagValue = value;
        break;
      case undefined:
      default:
        throw badFilter(
          `The $filter clause '${clause.slice(0, 100)}' is not supported; machines are filtered by status, resourceGroup, osType, tagName and tagValue (eq '…') and contains(name,'…'), joined by 'and'.`,
        );
    }
  }
  if (filter.tagValue !== undefined && filter.tagName === undefined) {
    throw badFilter("tagValue eq '…' needs tagName eq '…' beside it.");
  }
  return filter;
}

function parseOrderBy(raw: string | undefined): MachineListQuery['orderBy'] {
  if (raw === undefined) return { field: 'name', descending: false };
  const match = ORDER.exec(raw.trim());
  const field = MACHINE_SORT_FIELDS.find((f) => f.toLowerCase() === match?.[1]?.toLowerCase());
  if (match === null || field === undefined) {
    throw new ArmError(
      'BadRequest',
      `The $orderby '${raw.slice(0, 100)}' is not supported; sort by one of ${MACHINE_SORT_FIELDS.join(', ')}, then asc or desc.`,
      { target: '$orderby' },
    );
  }
  return { field, descending: match[2]?.toLowerCase() === 'desc' };
}

function parseTop(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const top = Number(raw);
  if (!/^\d{1,7}$/.test(raw) || top < 1 || top > MAX_MACHINE_TOP) {
    throw new ArmError(
      'BadRequest',
      `The $top '${raw.slice(0, 20)}' is not valid; give a whole number from 1 to ${MAX_MACHINE_TOP}.`,
      { target: '$top' },
    );
  }
  return top;
}

function unquote(text: string): string {
  return text.replace(/''/g, "'");
}
