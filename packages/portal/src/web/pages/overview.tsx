// Overview: the fleet by status, the compliance summary and the latest activity.
import { usePortal } from '../context.js';
import type { ArmList } from '../api.js';
import { useLoad } from '../use-load.js';
import { ErrorMessage, Link, Loading, Section, StatusBadge } from '../widgets.js';
import { ActivityTable, type ActivityEvent, activityPath } from './activity.js';

const STATUSES = ['Connected', 'Disconnected', 'Expired'] as const;

export function OverviewPage() {
  const { api, subscriptionId } = usePortal();
  const base = `/subscriptions/${subscriptionId}/providers/Microsoft.HybridCompute/machines?api-version=2024-07-10&$top=1`;
  const counts = useLoad(async () => {
    const answers = await Promise.all(
      STATUSES.map((s) =>
        api.get<ArmList<unknown>>(`${base}&$filter=${encodeURIComponent(`status eq '${s}'`)}`),
      ),
    );
    return STATUSES.map((status, i) => ({ status, count: answers[i]?.['@odata.count'] ?? 0 }));
  }, [subscriptionId]);
  const compliance = useLoad(async () => {
    const answer = await api.request<{
      value: {
        results: {
          nonCompliantResources?: number;
          resourceDetails?: { complianceState: string; count: number }[];
        };
      }[];
    }>(
      'POST',
      `/subscriptions/${subscriptionId}/providers/Microsoft.PolicyInsights/policyStates/latest/summarize?api-version=2024-10-01`,
    );
    return answer.body.value[0]?.results.resourceDetails ?? [];
  }, [subscriptionId]);
  const activity = useLoad(
    () => api.get<ArmList<ActivityEvent>>(activityPath(subscriptionId, { hours: 24 })),
    [subscriptionId],
  );
  return (
    <>
      <h1>Overview</h1>
      <div class="grid">
        <Section title="Machines by status">
          <Loading loading={counts.loading} />
          <ErrorMessage error={counts.error} />
          <ul class="stat-list">
            {(counts.data ?? []).map(({ status, count }) => (
              <li key={status}>
                <Link href={`/machines?status=${status}`}>
                  <span class="stat">{count}</span> <StatusBadge status={status} />
                </Link>
              </li>
            ))}
          </ul>
        </Section>
        <Section title="Compliance">
          <Loading loading={compliance.loading} />
          <ErrorMessage error={compliance.error} />
          {compliance.data !== undefined && compliance.data.length === 0 ? (
            <p class="muted">No policy evaluated yet.</p>
          ) : (
            <ul class="stat-list">
              {(compliance.data ?? []).map((d) => (
                <li key={d.complianceState}>
                  <span class="stat">{d.count}</span>{' '}
                  <span class={`badge badge-${d.complianceState.toLowerCase()}`}>
                    {d.complianceState}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Section>
      </div>
      <Section title="Recent activity">
        <Loading loading={activity.loading} />
        <ErrorMessage error={activity.error} />
        <ActivityTable events={(activity.data?.value ?? []).slice(0, 10)} />
      </Section>
    </>
  );
}
