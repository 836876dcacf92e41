// "Add a server": a fresh onboarding token for one resource group, and the one command to run
// as root on the new server, which installs the agent and connects it.
import { useState } from 'preact/hooks';
import { installCommand } from '@tether/protocol/install-command';
import { usePortal } from '../context.js';
import { ErrorMessage } from '../widgets.js';

export function AddServerPage() {
  const { api, subscriptionId, session } = usePortal();
  const [group, setGroup] = useState('');
  const [hours, setHours] = useState(2);
  const [machines, setMachines] = useState(1);
  const [command, setCommand] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const ca = session.config.caCert;

  async function create() {
    setError(undefined);
    setCommand(undefined);
    try {
      const answer = await api.request<{ token: string }>(
        'POST',
        `/subscriptions/${subscriptionId}/resourceGroups/${encodeURIComponent(group.trim())}/providers/Microsoft.HybridCompute/onboardingTokens?api-version=2024-07-10`,
        { expiresInSeconds: Math.round(hours * 3600), maxMachines: machines },
      );
      if (ca === undefined)
        throw new Error(
          'This server does not know the CA of its own certificate; use tether onboarding-token create with --ca-cert.',
        );
      setCommand(installCommand({ endpoint: api.baseUrl, caPem: ca, token: answer.body.token }));
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    }
  }

  return (
    <>
      <h1>Add a server</h1>
      <form
        class="stacked card"
        aria-label="Create an onboarding token"
        onSubmit={(event) => {
          event.preventDefault();
          void create();
        }}
      >
        <label>
          Resource group
          <input required value={group} onInput={(e) => setGroup(e.currentTarget.value)} />
        </label>
        <label>
          Valid for (hours)
          <input
            type="number"
            min="1"
            max="720"
            value={hours}
            onInput={(e) => setHours(Number(e.currentTarget.value))}
          />
        </label>
        <label>
          Machines it may add
          <input
            type="number"
            min="1"
            value={machines}
            onInput={(e) => setMachines(Number(e.currentTarget.value))}
          />
        </label>
        <button type="submit">Create the install command</button>
      </form>
      <ErrorMessage error={error} />
      {command !== undefined && (
        <section class="card" aria-labelledby="command-heading">
          <h2 id="command-heading">Run this as root on the server</h2>
          <p>
            It installs the agent trusting only this control plane’s CA and connects with the new
            token.
          </p>
          <pre class="command" tabIndex={0}>
            {command}
          </pre>
        </section>
      )}
    </>
  );
}
