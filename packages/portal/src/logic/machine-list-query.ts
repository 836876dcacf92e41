// What the machines page asks the API for: its filters, search, sort and page size as the ARM
// list's $filter, $orderby and $top.

export type SortField = 'name' | 'resourceGroup' | 'status' | 'osName' | 'lastStatusChange';

export interface MachineListState {
  status: '' | 'Connected' | 'Disconnected' | 'Expired';
  resourceGroup: string;
  osType: string;
  /** `key` or `key=value`. */
  tag: string;
  search: string;
  sort: SortField;
  descending: boolean;
  pageSize: number;
}

export const DEFAULT_LIST_STATE: MachineListState = {
  status: '',
  resourceGroup: '',
  osType: '',
  tag: '',
  search: '',
  sort: 'name',
  descending: false,
  pageSize: 50,
};

/** An OData string literal: quotes doubled. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function machineListParams(state: MachineListState): URLSearchParams {
  const clauses: string[] = [];
  if (state.status !== '') clauses.push(`status eq ${odataString(state.status)}`);
  if (state.resourceGroup.trim() !== '')
    clauses.push(`resourceGroup eq ${odataString(state.resourceGroup.trim())}`);
  if (state.osType !== '') clauses.push(`osType eq ${odataString(state.osType)}`);
  const tag = state.tag.trim();
  if (tag !== '') {
    const at = tag.indexOf('=');
    const name = at < 0 ? tag : tag.slice(0, at).trim();
    clauses.push(`tagName eq ${odataString(name)}`);
    if (at >= 0) clauses.push(`tagValue eq ${odataString(tag.slice(at + 1).trim())}`);
  }
  if (state.search.trim() !== '')
    clauses.push(`contains(name,${odataString(state.search.trim())})`);
  const params = new URLSearchParams({
    'api-version': '2024-07-10',
    $top: String(state.pageSize),
    $orderby: `${state.sort} ${state.descending ? 'desc' : 'asc'}`,
  });
  if (clauses.length > 0) params.set('$filter', clauses.join(' and '));
  return params;
}
