// A machine's extensions: status and message as the agent reported them, deploy CustomScript
// with its settings, remove. A refused install shows the machine's own reason.
import { useState } from 'preact/hooks';
import { ApiError, type ArmList } from '../api.js';
import { usePortal } from '../context.js';
import { useLoad } from '../use-load.js';
import { ErrorMessage, Loading, Section } from '../widgets.js';
import type { PackageMetadata } from '@tether/protocol/extension-package';
import { REPOSITORY_API_VERSION } from './repository.js';

interface Extension {
  name: string;
  properties: {
    publisher: string;
    type: string;
    typeHandlerVersion?: string;
    provisioningState?: string;
    instanceView?: {
      status?: { code?: string; level?: string; displayStatus?: string; message?: string };
    };
  };
}

const CUSTOM_SCRIPT = { publisher: 'Microsoft.Azure.Extensions', type: 'CustomScript' };

export function Extensions(props: {
  machineId: string;
  location: string;
  canWrite: boolean;
  canDelete: boolean;
}) {
  const { api } = usePortal();
  const list = useLoad(
    () => api.get<ArmList<Extension>>(`${props.machineId}/extensions?api-version=2024-07-10`),
    [props.machineId],
  );
  const [progress, setProgress] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();

  async function run(action: () => Promise<{ headers: Headers }>, label: string) {
    setError(undefined);
    setProgress(`${label}: InProgress`);
    try {
      const answer = await action();
      list.reload();
      const operation = answer.headers.get('azure-asyncoperation');
      if (operation !== null) {
        const result = await api.waitForOperation(operation, (status) =>
          setProgress(`${label}: ${status}`),
        );
        setProgress(`${label}: ${result.status}`);
        if (result.error?.message !== undefined) setError(result.error.message);
      }
    } catch (caught) {
      setProgress(undefined);
      setError(caught instanceof ApiError ? caught.message : String(caught));
    }
    list.reload();
  }

  async function deploy(name: string, version: string, command: string) {
    await run(
      () =>
        api.request(
          'PUT',
          `${props.machineId}/extensions/${encodeURIComponent(name)}?api-version=2024-07-10`,
          {
            location: props.location,
            properties: {
              ...CUSTOM_SCRIPT,
              typeHandlerVersion: version,
              settings: { commandToExecute: command },
            },
          },
        ),
      `Deploying ${name}`,
    );
  }

  return (
    <Section title="Extensions" id="extensions">
      <Loading loading={list.loading && list.data === undefined} />
      <ErrorMessage error={list.error} />
      {list.data !== undefined && list.data.value.length === 0 && (
        <p class="muted">No extension installed.</p>
      )}
      {list.data !== undefined && list.data.value.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Version</th>
              <th scope="col">State</th>
              <th scope="col">Message</th>
              {props.canDelete && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {list.data.value.map((e) => (
              <tr key={e.name} data-extension={e.name}>
                <td>{e.name}</td>
                <td>
                  {e.properties.publisher}/{e.properties.type}
                </td>
                <td>{e.properties.typeHandlerVersion}</td>
                <td>
                  <span
                    class={`badge badge-${(e.properties.provisioningState ?? '').toLowerCase()}`}
                  >
                    {e.properties.provisioningState}
                  </span>
                </td>
                <td class="wrap message">{e.properties.instanceView?.status?.message ?? ''}</td>
                {props.canDelete && (
                  <td>
                    <button
                      type="button"
                      class="danger"
                      onClick={() =>
                        void run(
                          () =>
                            api.request(
                              'DELETE',
                              `${props.machineId}/extensions/${encodeURIComponent(e.name)}?api-version=2024-07-10`,
                            ),
                          `Removing ${e.name}`,
                        )
                      }
                    >
                      Remove {e.name}
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {progress !== undefined && (
        <p class="progress" role="status">
          {progress}
        </p>
      )}
      <ErrorMessage error={error} />
      {props.canWrite ? (
        <DeployForm onDeploy={(name, version, command) => void deploy(name, version, command)} />
      ) : (
        <p class="muted">
          You can read this machine’s extensions; deploying one needs a role with extension writes.
        </p>
      )}
    </Section>
  );
}

function DeployForm(props: { onDeploy: (name: string, version: string, command: string) => void }) {
  const { api } = usePortal();
  // The versions the repository holds, newest first: a machine installs nothing else.
  const versions = useLoad(
    async () =>
      (
        await api.get<ArmList<PackageMetadata>>(
          `/providers/Tether.Extensions/publishers/${CUSTOM_SCRIPT.publisher}/types/${CUSTOM_SCRIPT.type}/versions?api-version=${REPOSITORY_API_VERSION}`,
        )
      ).value.map((p) => p.version),
    [],
  );
  const [name, setName] = useState('CustomScript');
  const [version, setVersion] = useState('');
  const [command, setCommand] = useState('');
  const chosen = version || versions.data?.[0] || '';
  return (
    <form
      class="stacked"
      aria-label="Deploy CustomScript"
      onSubmit={(event) => {
        event.preventDefault();
        props.onDeploy(name.trim(), chosen, command);
      }}
    >
      <h3>Deploy CustomScript</h3>
      <p class="warning">
        A script runs as root on this server: whoever may deploy one is, in effect, an administrator
        of it.
      </p>
      <label>
        Extension name
        <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        Version (from the extension repository)
        <select required value={chosen} onChange={(e) => setVersion(e.currentTarget.value)}>
          {(versions.data ?? []).map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      </label>
      <ErrorMessage error={versions.error} />
      {versions.data !== undefined && versions.data.length === 0 && (
        <p class="error" role="alert">
          No CustomScript package is published in this control plane’s extension repository.
        </p>
      )}
      <label>
        Command to execute (settings.commandToExecute)
        <textarea
          required
          rows={3}
          value={command}
          onInput={(e) => setCommand(e.currentTarget.value)}
        />
      </label>
      <button type="submit" disabled={chosen === ''}>
        Deploy
      </button>
    </form>
  );
}
