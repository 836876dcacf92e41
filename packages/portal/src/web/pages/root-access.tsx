// Who can run code as root on a machine through Tether: principals whose roles open a door
// (extensions, guest configuration, overwriting the machine), crossed with the machine's own
// local settings, which may close each door whatever the roles say. Also the fleet view.
import type { ArmList } from '../api.js';
import { ApiError } from '../api.js';
import { parseMachineId, machinePath } from '../../logic/arm-id.js';
import { usePortal } from '../context.js';
import { useLoad } from '../use-load.js';
import { ErrorMessage, Link, Loading, Section } from '../widgets.js';

export interface Door {
  name: string;
  open: boolean;
  closedBy: string | null;
}

export interface RootAccessReport {
  machineId: string;
  doors: Door[];
  principals: {
    principalId: string;
    principalType: string;
    displayName: string | null;
    viaGroup: { id: string; displayName: string } | null;
    doors: string[];
    grants: { roleName: string; assignmentId: string; assignedAt: string }[];
  }[];
  nobody: boolean;
  summary: string;
}

interface FleetEntry {
  machineId: string;
  name: string;
  resourceGroup: string;
  openDoors: string[];
  principalCount: number;
  nobody: boolean;
}

const API_VERSION = '2026-11-01';

function unavailable(error: string | undefined): string | undefined {
  return error;
}

export function RootAccess(props: { machineId: string }) {
  const { api } = usePortal();
  const report = useLoad(async () => {
    try {
      return await api.get<RootAccessReport>(
        `${props.machineId}/providers/Tether.Authorization/rootAccess?api-version=${API_VERSION}`,
      );
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && error.code === 'ResourceNotFound') {
        throw new Error('This control plane does not answer who can run code as root yet.');
      }
      throw error;
    }
  }, [props.machineId]);
  const r = report.data;
  return (
    <Section title="Who can run code as root here" id="root-access">
      <Loading loading={report.loading && r === undefined} />
      <ErrorMessage error={unavailable(report.error)} />
      {r !== undefined && (
        <>
          <p class={r.nobody ? 'success' : 'warning'} id="root-access-summary">
            {r.summary}
          </p>
          <ul class="doors">
            {r.doors.map((d) => (
              <li key={d.name}>
                <span class={`badge ${d.open ? 'badge-open' : 'badge-closed'}`}>
                  {d.open ? 'open' : 'closed'}
                </span>{' '}
                {d.name}
                {d.closedBy !== null && <span class="muted"> — closed by {d.closedBy}</span>}
              </li>
            ))}
          </ul>
          {r.principals.length > 0 && (
            <table>
              <thead>
                <tr>
                  <th scope="col">Principal</th>
                  <th scope="col">Type</th>
                  <th scope="col">Through</th>
                  <th scope="col">Roles</th>
                </tr>
              </thead>
              <tbody>
                {r.principals.map((p) => (
                  <tr key={`${p.principalId}-${p.viaGroup?.id ?? ''}`}>
                    <td>
                      {p.displayName ?? p.principalId}
                      {p.viaGroup !== null && (
                        <span class="muted"> (via {p.viaGroup.displayName})</span>
                      )}
                    </td>
                    <td>{p.principalType}</td>
                    <td>{p.doors.join(', ')}</td>
                    <td>{p.grants.map((g) => g.roleName).join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </Section>
  );
}

export function RootAccessFleetPage() {
  const { api, subscriptionId } = usePortal();
  const fleet = useLoad(
    () =>
      api.get<ArmList<FleetEntry>>(
        `/subscriptions/${subscriptionId}/providers/Tether.Authorization/rootAccess?api-version=${API_VERSION}`,
      ),
    [subscriptionId],
  );
  return (
    <>
      <h1>Who can run code as root</h1>
      <p class="muted">
        For every machine: the doors through which someone with a role can run code as root on it,
        and how many principals hold such a role. A door is closed by the server’s own settings
        (azcmagent config), whatever the roles say.
      </p>
      <Section title="Machines">
        <Loading loading={fleet.loading} />
        <ErrorMessage error={fleet.error} />
        {fleet.data !== undefined && (
          <table>
            <thead>
              <tr>
                <th scope="col">Machine</th>
                <th scope="col">Resource group</th>
                <th scope="col">Open doors</th>
                <th scope="col">Principals</th>
              </tr>
            </thead>
            <tbody>
              {fleet.data.value.map((m) => {
                const ref = parseMachineId(m.machineId);
                return (
                  <tr key={m.machineId}>
                    <td>
                      {ref === undefined ? (
                        m.name
                      ) : (
                        <Link href={`${machinePath(ref)}#root-access`}>{m.name}</Link>
                      )}
                    </td>
                    <td>{m.resourceGroup}</td>
                    <td>
                      {m.nobody ? (
                        <span class="badge badge-closed">nobody, through Tether</span>
                      ) : (
                        m.openDoors.join(', ')
                      )}
                    </td>
                    <td>{m.principalCount}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}
