// A machine's guest configuration assignments with each rule's compliance and reasons.
import { relativeTime } from '../../logic/format.js';
import type { ArmList } from '../api.js';
import { usePortal } from '../context.js';
import { useLoad } from '../use-load.js';
import { ErrorMessage, Loading, Section } from '../widgets.js';

interface Assignment {
  name: string;
  properties: {
    complianceStatus?: string;
    lastComplianceStatusChecked?: string | null;
    latestAssignmentReport?: {
      resources?: {
        complianceStatus: string;
        resourceId: string;
        reasons?: { phrase: string; code: string }[];
      }[];
    } | null;
  };
}

export function GuestConfiguration(props: { machineId: string }) {
  const { api } = usePortal();
  const list = useLoad(
    () =>
      api.get<ArmList<Assignment>>(
        `${props.machineId}/providers/Microsoft.GuestConfiguration/guestConfigurationAssignments?api-version=2024-04-05`,
      ),
    [props.machineId],
  );
  return (
    <Section title="Guest configuration" id="guest-configuration">
      <Loading loading={list.loading} />
      <ErrorMessage error={list.error} />
      {list.data !== undefined && list.data.value.length === 0 && (
        <p class="muted">No guest configuration assigned.</p>
      )}
      {(list.data?.value ?? []).map((a) => (
        <details key={a.name} class="assignment">
          <summary>
            {a.name}{' '}
            <span class={`badge badge-${(a.properties.complianceStatus ?? '').toLowerCase()}`}>
              {a.properties.complianceStatus}
            </span>{' '}
            <span class="muted">
              checked{' '}
              {relativeTime(a.properties.lastComplianceStatusChecked ?? undefined, Date.now())}
            </span>
          </summary>
          <table>
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Compliance</th>
                <th scope="col">Reasons</th>
              </tr>
            </thead>
            <tbody>
              {(a.properties.latestAssignmentReport?.resources ?? []).map((r) => (
                <tr key={r.resourceId}>
                  <td>{r.resourceId}</td>
                  <td>{r.complianceStatus}</td>
                  <td class="wrap">
                    {(r.reasons ?? []).map((reason) => reason.phrase).join('; ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ))}
    </Section>
  );
}
