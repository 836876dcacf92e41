// Access control (IAM) at a scope: who has access, which of them are indirect administrators of
// the servers there, adding and removing a role assignment, and checking one principal's access.
import { useState } from 'preact/hooks';
import { ApiError, type ArmList } from '../api.js';
import { usePortal } from '../context.js';
import { useLoad } from '../use-load.js';
import { ErrorMessage, Loading, Section } from '../widgets.js';
import { CheckAccess } from './check-access.js';

export interface AccessEntry {
  principalId: string;
  principalType: string;
  displayName: string | null;
  roleName: string;
  assignmentId: string;
  assignedAt: string;
  inherited: boolean;
  /** Object id of the group whose membership brings this line. */
  viaGroup: string | null;
  viaGroupName: string | null;
  indirectAdministrator: boolean;
}

interface RoleDefinition {
  id: string;
  properties: { roleName: string };
}

export function AccessControl(props: {
  scope: string;
  canWrite: boolean;
  canDelete: boolean;
  /** Called after this section added or removed a role assignment. */
  onChanged?: () => void;
}) {
  const { api } = usePortal();
  const [removing, setRemoving] = useState<AccessEntry | undefined>();
  const [removed, setRemoved] = useState<string | undefined>();
  const [removeError, setRemoveError] = useState<string | undefined>();
  const access = useLoad(
    () =>
      api.get<ArmList<AccessEntry>>(
        `${props.scope}/providers/Tether.Authorization/access?api-version=2026-11-01`,
      ),
    [props.scope],
  );
  return (
    <Section title="Access control" id="access-control">
      <Loading loading={access.loading && access.data === undefined} />
      <ErrorMessage error={access.error} />
      {access.data !== undefined && (
        <table>
          <thead>
            <tr>
              <th scope="col">Who</th>
              <th scope="col">Type</th>
              <th scope="col">Role</th>
              <th scope="col">Assigned at</th>
              <th scope="col">Can run code as root</th>
              {props.canDelete && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {access.data.value.map((a) => (
              <tr key={`${a.assignmentId}-${a.principalId}`}>
                <td>
                  {a.displayName ?? a.principalId}
                  {a.viaGroup !== null && (
                    <span class="muted"> (via {a.viaGroupName ?? a.viaGroup})</span>
                  )}
                </td>
                <td>{a.principalType}</td>
                <td>{a.roleName}</td>
                <td class="wrap">
                  {a.inherited ? `${a.assignedAt} (inherited)` : 'this resource'}
                </td>
                <td>
                  {a.indirectAdministrator ? (
                    <strong class="warning-text">Yes: indirect administrator</strong>
                  ) : (
                    'No'
                  )}
                </td>
                {props.canDelete && (
                  <td>
                    {a.inherited ? (
                      <span class="muted">inherited: remove at {a.assignedAt}</span>
                    ) : a.viaGroup === null ? (
                      <button
                        type="button"
                        class="danger"
                        onClick={() => {
                          setRemoved(undefined);
                          setRemoveError(undefined);
                          setRemoving(a);
                        }}
                      >
                        Remove {a.roleName} of {a.displayName ?? a.principalId}
                      </button>
                    ) : (
                      <span class="muted">through the group</span>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {removing !== undefined && (
        <ConfirmRemoval
          entry={removing}
          onCancel={() => setRemoving(undefined)}
          onRemoved={(text) => {
            setRemoving(undefined);
            setRemoved(text);
            access.reload();
            props.onChanged?.();
          }}
          onError={(text) => {
            setRemoving(undefined);
            setRemoveError(text);
          }}
        />
      )}
      {removed !== undefined && (
        <p class="success" role="status">
          {removed}
        </p>
      )}
      <ErrorMessage error={removeError} />
      {props.canWrite ? (
        <AddAssignment
          scope={props.scope}
          onAdded={() => {
            access.reload();
            props.onChanged?.();
          }}
        />
      ) : (
        <p class="muted">Adding a role assignment needs Owner or User Access Administrator here.</p>
      )}
      <CheckAccess scope={props.scope} />
    </Section>
  );
}

/** The role a machine's own identity holds at its machine, which the agent needs to work. */
const MACHINE_ROLE = 'Tether Connected Machine';

/** Asks before a role assignment is removed; the API decides whether the caller may. */
function ConfirmRemoval(props: {
  entry: AccessEntry;
  onCancel: () => void;
  onRemoved: (message: string) => void;
  onError: (message: string) => void;
}) {
  const { api } = usePortal();
  const [busy, setBusy] = useState(false);
  const who = props.entry.displayName ?? props.entry.principalId;
  async function remove() {
    setBusy(true);
    try {
      await api.request('DELETE', `${props.entry.assignmentId}?api-version=2022-04-01`);
      props.onRemoved(`${props.entry.roleName} removed from ${who}.`);
    } catch (caught) {
      props.onError(caught instanceof Error ? caught.message : String(caught));
    }
  }
  return (
    <div class="confirm" role="alertdialog" aria-labelledby="confirm-removal-text">
      <p id="confirm-removal-text">
        Remove the {props.entry.roleName} role of {who} here? They lose what it grants at this scope
        and below at once.
        {props.entry.roleName === MACHINE_ROLE && (
          <strong>
            {' '}
            This is the machine’s own identity: without it the machine can no longer report or
            receive its extensions until it is onboarded again.
          </strong>
        )}
      </p>
      <button type="button" class="danger" disabled={busy} onClick={() => void remove()}>
        Yes, remove
      </button>{' '}
      <button type="button" disabled={busy} onClick={props.onCancel}>
        Cancel
      </button>
    </div>
  );
}

function AddAssignment(props: { scope: string; onAdded: () => void }) {
  const { api } = usePortal();
  const roles = useLoad(
    () =>
      api.get<ArmList<RoleDefinition>>(
        `${props.scope}/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01`,
      ),
    [props.scope],
  );
  const [who, setWho] = useState('');
  const [role, setRole] = useState('');
  const [message, setMessage] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();

  async function add() {
    setError(undefined);
    setMessage(undefined);
    try {
      const principalId = await resolvePrincipal(who.trim());
      await api.request(
        'PUT',
        `${props.scope}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}?api-version=2022-04-01`,
        {
          properties: { roleDefinitionId: role, principalId },
        },
      );
      setMessage(
        `${roles.data?.value.find((r) => r.id === role)?.properties.roleName ?? 'Role'} assigned to ${who.trim()}.`,
      );
      props.onAdded();
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    }
  }

  /** An object id as it is; a user principal name looked up in the directory. */
  async function resolvePrincipal(text: string): Promise<string> {
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text)) return text;
    const users = await api.get<{ value: { id: string }[] }>(
      `/v1.0/users?$filter=${encodeURIComponent(`userPrincipalName eq '${text.replace(/'/g, "''")}'`)}`,
    );
    const found = users.value[0];
    if (found === undefined)
      throw new ApiError(
        404,
        'PrincipalNotFound',
        `No user '${text}' in the directory; give a user principal name or an object id.`,
      );
    return found.id;
  }

  return (
    <form
      class="stacked"
      aria-label="Add role assignment"
      onSubmit={(event) => {
        event.preventDefault();
        void add();
      }}
    >
      <h3>Add role assignment</h3>
      <label>
        User principal name or object id
        <input required value={who} onInput={(e) => setWho(e.currentTarget.value)} />
      </label>
      <label>
        Role
        <select required value={role} onChange={(e) => setRole(e.currentTarget.value)}>
          <option value="">Choose a role</option>
          {(roles.data?.value ?? []).map((r) => (
            <option key={r.id} value={r.id}>
              {r.properties.roleName}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Assign</button>
      {message !== undefined && (
        <p class="success" role="status">
          {message}
        </p>
      )}
      <ErrorMessage error={error} />
    </form>
  );
}
