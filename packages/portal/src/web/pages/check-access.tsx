// Check access for one principal at a scope, as Azure's "Check access" tab: find a user, group
// or service principal in the directory, then show the role assignments that reach it here (its
// own and its groups', made here or above) and the actions they add up to.
import { useState } from 'preact/hooks';
import type { ArmList } from '../api.js';
import { usePortal } from '../context.js';
import { ErrorMessage } from '../widgets.js';
import type { AccessEntry } from './access-control.js';

interface Found {
  id: string;
  displayName: string;
  type: 'User' | 'Group' | 'ServicePrincipal';
  detail: string;
}

interface CheckedAccess {
  principalId: string;
  principalType: string;
  displayName: string;
  assignments: AccessEntry[];
  permissions: { actions: string[]; notActions: string[] }[];
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const DIRECTORIES = [
  { type: 'User', path: '/v1.0/users', detail: 'userPrincipalName' },
  { type: 'Group', path: '/v1.0/groups', detail: 'description' },
  { type: 'ServicePrincipal', path: '/v1.0/servicePrincipals', detail: 'appId' },
] as const;

export function CheckAccess(props: { scope: string }) {
  const { api } = usePortal();
  const [text, setText] = useState('');
  const [found, setFound] = useState<Found[] | undefined>();
  const [checked, setChecked] = useState<CheckedAccess | undefined>();
  const [error, setError] = useState<string | undefined>();

  async function search() {
    setError(undefined);
    setChecked(undefined);
    const wanted = text.trim();
    if (GUID.test(wanted)) {
      setFound(undefined);
      await check(wanted);
      return;
    }
    const filter = encodeURIComponent(`startswith(displayName,'${wanted.replace(/'/g, "''")}')`);
    // Each directory is searched apart: reading one may be allowed where another is not.
    const answers = await Promise.allSettled(
      DIRECTORIES.map(async (d) => {
        const list = await api.get<ArmList<Record<string, unknown>>>(
          `${d.path}?$filter=${filter}&$top=5`,
        );
        return list.value.map((o): Found => ({
          id: String(o['id']),
          displayName: String(o['displayName'] ?? o['id']),
          type: d.type,
          detail: typeof o[d.detail] === 'string' ? String(o[d.detail]) : '',
        }));
      }),
    );
    const results = answers.flatMap((a) => (a.status === 'fulfilled' ? a.value : []));
    const refused = answers.find((a) => a.status === 'rejected');
    if (results.length === 0 && refused !== undefined) {
      setError(
        `${refused.reason instanceof Error ? refused.reason.message : String(refused.reason)} Give the principal's object id instead.`,
      );
    }
    setFound(results);
  }

  async function check(principalId: string) {
    setError(undefined);
    try {
      setChecked(
        await api.get<CheckedAccess>(
          `${props.scope}/providers/Tether.Authorization/access/${principalId}?api-version=2026-11-01`,
        ),
      );
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    }
  }

  return (
    <div id="check-access">
      <form
        class="stacked"
        aria-label="Check access"
        onSubmit={(event) => {
          event.preventDefault();
          void search();
        }}
      >
        <h3>Check access</h3>
        <label>
          Name of a user, group or service principal, or an object id
          <input required value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorMessage error={error} />
      {found !== undefined && found.length === 0 && error === undefined && (
        <p class="muted">Nobody in the directory has a name starting so.</p>
      )}
      {found !== undefined && found.length > 0 && (
        <ul class="found" aria-label="Principals found">
          {found.map((f) => (
            <li key={f.id}>
              <button type="button" class="link-button" onClick={() => void check(f.id)}>
                {f.displayName}
              </button>{' '}
              <span class="muted">
                {f.type}
                {f.detail === '' ? '' : ` · ${f.detail}`}
              </span>
            </li>
          ))}
        </ul>
      )}
      {checked !== undefined && <CheckedView access={checked} />}
    </div>
  );
}

function CheckedView(props: { access: CheckedAccess }) {
  const a = props.access;
  return (
    <section aria-labelledby="checked-heading" class="checked">
      <h4 id="checked-heading">
        {a.displayName} <span class="muted">({a.principalType})</span>
      </h4>
      {a.assignments.length === 0 ? (
        <p>No role assignment reaches this scope for {a.displayName}.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Role</th>
              <th scope="col">Assigned at</th>
              <th scope="col">Through</th>
              <th scope="col">Can run code as root</th>
            </tr>
          </thead>
          <tbody>
            {a.assignments.map((line) => (
              <tr key={`${line.assignmentId}-${line.viaGroup ?? ''}`}>
                <td>{line.roleName}</td>
                <td class="wrap">
                  {line.inherited ? `${line.assignedAt} (inherited)` : 'this scope'}
                </td>
                <td>
                  {line.viaGroup === null
                    ? 'direct'
                    : `group ${line.viaGroupName ?? line.viaGroup}`}
                </td>
                <td>{line.indirectAdministrator ? 'Yes: indirect administrator' : 'No'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {a.permissions.length > 0 && (
        <>
          <h5>Effective actions here</h5>
          {/* One line per role: what one role excepts, another may still grant. */}
          <ul class="permissions">
            {a.permissions.map((p, i) => (
              <li key={i} class="wrap">
                {p.actions.join(', ')}
                {p.notActions.length > 0 && (
                  <span class="muted"> except {p.notActions.join(', ')}</span>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
