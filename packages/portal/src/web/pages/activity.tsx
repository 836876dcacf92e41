// The activity log: every change and refused change, filtered by time, group or resource.
import { useState } from 'preact/hooks';
import { relativeTime } from '../../logic/format.js';
import { odataString } from '../../logic/machine-list-query.js';
import type { ArmList } from '../api.js';
import { usePortal } from '../context.js';
import { useLoad } from '../use-load.js';
import { ErrorMessage, Loading, PathText, Section } from '../widgets.js';

export interface ActivityEvent {
  eventDataId: string;
  caller: string;
  callerDisplayName?: string | null;
  operationName: { value: string };
  status: { value: string };
  subStatus?: { value: string };
  resourceId: string;
  eventTimestamp: string;
  properties?: Record<string, unknown>;
}

export function activityPath(
  subscriptionId: string,
  options: { hours: number; resourceGroup?: string; resourceUri?: string },
): string {
  const since = new Date(Date.now() - options.hours * 3_600_000).toISOString();
  let filter = `eventTimestamp ge ${odataString(since)}`;
  if (options.resourceGroup)
    filter += ` and resourceGroupName eq ${odataString(options.resourceGroup)}`;
  if (options.resourceUri) filter += ` and resourceUri eq ${odataString(options.resourceUri)}`;
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=${encodeURIComponent(filter)}`;
}

export function ActivityTable(props: { events: readonly ActivityEvent[] }) {
  if (props.events.length === 0) return <p class="muted">No activity in this period.</p>;
  const now = Date.now();
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Operation</th>
          <th scope="col">Result</th>
          <th scope="col">Resource</th>
          <th scope="col">Who</th>
        </tr>
      </thead>
      <tbody>
        {props.events.map((e) => (
          <tr key={e.eventDataId}>
            <td title={e.eventTimestamp}>{relativeTime(e.eventTimestamp, now)}</td>
            <td>
              <PathText path={e.operationName.value} />
            </td>
            <td>
              <span class={`badge badge-${e.status.value.toLowerCase()}`}>{e.status.value}</span>{' '}
              <span class="muted">{e.subStatus?.value}</span>
            </td>
            <td title={e.resourceId}>
              <PathText path={e.resourceId.split('/').slice(-2).join('/')} />
            </td>
            <td>{e.callerDisplayName ?? e.caller}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ActivityPage() {
  const { api, subscriptionId } = usePortal();
  const [hours, setHours] = useState(24);
  const [group, setGroup] = useState('');
  const [applied, setApplied] = useState({ hours: 24, group: '' });
  const events = useLoad(
    () =>
      api.get<ArmList<ActivityEvent>>(
        activityPath(subscriptionId, { hours: applied.hours, resourceGroup: applied.group }),
      ),
    [subscriptionId, applied],
  );
  return (
    <>
      <h1>Activity log</h1>
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          setApplied({ hours, group: group.trim() });
        }}
      >
        <label>
          Period
          <select value={String(hours)} onChange={(e) => setHours(Number(e.currentTarget.value))}>
            <option value="1">Last hour</option>
            <option value="24">Last 24 hours</option>
            <option value="168">Last 7 days</option>
            <option value="720">Last 30 days</option>
          </select>
        </label>
        <label>
          Resource group
          <input value={group} onInput={(e) => setGroup(e.currentTarget.value)} />
        </label>
        <button type="submit">Apply</button>
      </form>
      <Section title="Events">
        <Loading loading={events.loading} />
        <ErrorMessage error={events.error} />
        <ActivityTable events={events.data?.value ?? []} />
      </Section>
    </>
  );
}
