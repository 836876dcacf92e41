// Who can run code as root on a machine through Tether: principals whose roles open a door
// (extensions, guest configuration, overwriting the machine), crossed with the machine's own
// local settings, which may close each door whatever the roles say. Also the fleet view.
import { useState } from 'preact/hooks';
import type { ArmList } from '../api.js';
import { parseMachineId, machinePath } from '../../logic/arm-id.js';
import { usePortal } from '../context.js';
import { useLoad } from '../use-load.js';
import { ErrorMessage, Link, Loading, Pager, Section } from '../widgets.js';

export interface Door {
  name: string;
  open: boolean;
  openBecause?: string | null;
  closedBy: string | null;
}

const DOOR_NAMES: Record<string, string> = {
  extensions: 'Extensions',
  guestConfiguration: 'Guest configuration',
  machineWrite: 'Overwriting the machine',
};

const doorName = (name: string): string => DOOR_NAMES[name] ?? name;

export interface RootAccessReport {
  machineId: string;
  localConfiguration?: { reported: boolean; reportedAt?: string | null };
  heldOffCount?: number;
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
  reported?: boolean;
  openDoors: string[];
  principalCount: number;
  nobody: boolean;
}

const API_VERSION = '2026-11-01';

/** `generation` changes when the role assignments may have: the report is read again. */
export function RootAccess(props: { machineId: string; generation?: number }) {
  const { api } = usePortal();
  const report = useLoad(
    () =>
      api.get<RootAccessReport>(
        `${props.machineId}/providers/Tether.Authorization/rootAccess?api-version=${API_VERSION}`,
      ),
    [props.machineId, props.generation],
  );
  const r = report.data;
  return (
    <Section title="Who can run code as root here" id="root-access">
      <Loading loading={report.loading && r === undefined} />
      <ErrorMessage error={report.error} />
      {r !== undefined && (
        <>
          <p class={r.nobody ? 'success' : 'warning'} id="root-access-summary">
            {r.summary}
          </p>
          {r.localConfiguration?.reported === false && (
            <p class="warning">
              The machine has not reported its local settings: every door they could close counts as
              open.
            </p>
          )}
          <ul class="doors">
            {r.doors.map((d) => (
              <li key={d.name} data-door={d.name}>
                <span class={`badge ${d.open ? 'badge-open' : 'badge-closed'}`}>
                  {d.open ? 'open' : 'closed'}
                </span>{' '}
                <strong>{doorName(d.name)}</strong>
                <span class="muted">
                  {' — '}
                  {d.open ? (d.openBecause ?? 'open') : `closed by ${d.closedBy ?? 'this server'}`}
                </span>
              </li>
            ))}
          </ul>
          {(r.heldOffCount ?? 0) > 0 && (
            <p class="muted">
              {r.heldOffCount} more principal(s) hold roles that would reach a door this machine
              keeps closed.
            </p>
          )}
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
                    <td>{p.doors.map(doorName).join(', ')}</td>
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
  const [pages, setPages] = useState<string[]>([]);
  const first = `/subscriptions/${subscriptionId}/providers/Tether.Authorization/rootAccess?api-version=${API_VERSION}`;
  const current = pages.at(-1) ?? first;
  const fleet = useLoad(() => api.get<ArmList<FleetEntry>>(current), [current]);
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
                        m.openDoors.map(doorName).join(', ')
                      )}
                      {m.reported === false && <span class="muted"> (not reported yet)</span>}
                    </td>
                    <td>{m.principalCount}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        <Pager pages={pages} nextLink={fleet.data?.nextLink} onPages={setPages} />
      </Section>
    </>
  );
}
