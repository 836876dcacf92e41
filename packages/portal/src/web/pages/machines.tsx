// Machines: the fleet as a server-filtered, server-sorted, paged list, so 10,000 machines cost
// the browser one page of rows.
import { useState } from 'preact/hooks';
import { parseMachineId, machinePath } from '../../logic/arm-id.js';
import { relativeTime, tagText } from '../../logic/format.js';
import {
  DEFAULT_LIST_STATE,
  machineListParams,
  type MachineListState,
  type SortField,
} from '../../logic/machine-list-query.js';
import type { ArmList } from '../api.js';
import { usePortal } from '../context.js';
import { useLoad } from '../use-load.js';
import { ErrorMessage, Link, Loading, Pager, StatusBadge } from '../widgets.js';

export interface Machine {
  id: string;
  name: string;
  location: string;
  tags?: Record<string, string>;
  properties: {
    status?: string;
    lastStatusChange?: string;
    lastHeartbeat?: string;
    agentVersion?: string;
    osName?: string;
    osType?: string;
    osVersion?: string;
    machineFqdn?: string;
    agentConfiguration?: Record<string, unknown>;
  };
}

const COLUMNS: { field: SortField | undefined; label: string }[] = [
  { field: 'name', label: 'Name' },
  { field: 'status', label: 'Status' },
  { field: 'resourceGroup', label: 'Resource group' },
  { field: 'osName', label: 'Operating system' },
  { field: undefined, label: 'Agent version' },
  { field: 'lastStatusChange', label: 'Status since' },
  { field: undefined, label: 'Tags' },
];

export function MachinesPage(props: { initialStatus?: string }) {
  const { api, subscriptionId } = usePortal();
  const [form, setForm] = useState<MachineListState>({
    ...DEFAULT_LIST_STATE,
    status: (props.initialStatus ?? '') as MachineListState['status'],
  });
  const [query, setQuery] = useState<MachineListState>(form);
  /** The links of the pages before this one, and this one's. */
  const [pages, setPages] = useState<string[]>([]);
  const first = `/subscriptions/${subscriptionId}/providers/Microsoft.HybridCompute/machines?${machineListParams(query).toString()}`;
  const current = pages.at(-1) ?? first;
  const list = useLoad(() => api.get<ArmList<Machine>>(current), [current]);
  const sortBy = (field: SortField) => {
    const next = {
      ...query,
      sort: field,
      descending: query.sort === field ? !query.descending : false,
    };
    setForm(next);
    setQuery(next);
    setPages([]);
  };
  const update = (patch: Partial<MachineListState>) => setForm({ ...form, ...patch });
  const now = Date.now();
  const count = list.data?.['@odata.count'];
  const start = pages.length * query.pageSize;
  return (
    <>
      <h1>Machines</h1>
      <form
        class="filters"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          setQuery(form);
          setPages([]);
        }}
      >
        <label>
          Search by name
          <input
            type="search"
            value={form.search}
            onInput={(e) => update({ search: e.currentTarget.value })}
          />
        </label>
        <label>
          Status
          <select
            value={form.status}
            onChange={(e) =>
              update({ status: e.currentTarget.value as MachineListState['status'] })
            }
          >
            <option value="">Any</option>
            <option>Connected</option>
            <option>Disconnected</option>
            <option>Expired</option>
          </select>
        </label>
        <label>
          Resource group
          <input
            value={form.resourceGroup}
            onInput={(e) => update({ resourceGroup: e.currentTarget.value })}
          />
        </label>
        <label>
          Operating system
          <select value={form.osType} onChange={(e) => update({ osType: e.currentTarget.value })}>
            <option value="">Any</option>
            <option value="linux">Linux</option>
            <option value="windows">Windows</option>
          </select>
        </label>
        <label>
          Tag (name or name=value)
          <input value={form.tag} onInput={(e) => update({ tag: e.currentTarget.value })} />
        </label>
        <button type="submit">Apply</button>
      </form>
      <ErrorMessage error={list.error} />
      <p class="muted" aria-live="polite" id="machine-count">
        {list.loading
          ? 'Loading…'
          : count === undefined
            ? ''
            : count === 0
              ? 'No machine matches.'
              : `${start + 1}–${start + (list.data?.value.length ?? 0)} of ${count} machines`}
      </p>
      <table class="machines" aria-describedby="machine-count">
        <thead>
          <tr>
            {COLUMNS.map((c) => (
              <th
                scope="col"
                key={c.label}
                aria-sort={
                  c.field !== undefined && c.field === query.sort
                    ? query.descending
                      ? 'descending'
                      : 'ascending'
                    : undefined
                }
              >
                {c.field === undefined ? (
                  c.label
                ) : (
                  <button type="button" class="sort" onClick={() => sortBy(c.field as SortField)}>
                    {c.label}
                    {c.field === query.sort ? (query.descending ? ' ▼' : ' ▲') : ''}
                  </button>
                )}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {(list.data?.value ?? []).map((m) => {
            const ref = parseMachineId(m.id);
            return (
              <tr key={m.id}>
                <td>
                  {ref === undefined ? m.name : <Link href={machinePath(ref)}>{m.name}</Link>}
                </td>
                <td>
                  <StatusBadge status={m.properties.status} />
                </td>
                <td>{ref?.resourceGroup}</td>
                <td>{m.properties.osName ?? m.properties.osType ?? '—'}</td>
                <td>{m.properties.agentVersion ?? '—'}</td>
                <td title={m.properties.lastStatusChange}>
                  {relativeTime(m.properties.lastStatusChange, now)}
                </td>
                <td class="wrap">{tagText(m.tags)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <Loading loading={list.loading && list.data === undefined} />
      <Pager pages={pages} nextLink={list.data?.nextLink} onPages={setPages} />
    </>
  );
}
