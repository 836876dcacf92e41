// What `tether machine extension create|set|delete` says while it waits for the machine: a
// ticking line on a terminal, and, whether or not there is one, a warning when the machine is
// not connected, saying when it was last seen and when the request will expire.
import type { ApiClient } from './api-client.js';
import type { CliDeps } from './cli-deps.js';
import { printable } from './output-format.js';

/** How often the machine's status is looked up again while waiting. */
const MACHINE_CHECK_MS = 15_000;

export interface ExtensionWaitProgress {
  /** Called with the operation's status body after each poll that found it still running. */
  onPoll(operation: unknown): Promise<void>;
  /** Ends the ticking line. */
  done(): void;
}

export function extensionWaitProgress(
  deps: CliDeps,
  client: ApiClient,
  machine: { path: string; name: string; apiVersion: string },
  doing: string,
): ExtensionWaitProgress {
  const started = deps.clock.now();
  const ticking = deps.isInteractive();
  let checkedAt: number | undefined;
  let warned = false;
  let drawn = false;
  return {
    async onPoll(operation) {
      const now = deps.clock.now();
      if (ticking) {
        const seconds = Math.round((now - started) / 1000);
        deps.stderr(`\rWaiting for ${machine.name} to ${doing}… ${seconds} s `);
        drawn = true;
      }
      if (warned || (checkedAt !== undefined && now - checkedAt < MACHINE_CHECK_MS)) return;
      checkedAt = now;
      let found: unknown;
      try {
        found = await client.get(machine.path, { 'api-version': machine.apiVersion });
      } catch {
        return; // Progress is a courtesy: the wait itself goes on and reports its own errors.
      }
      const properties = field(found, 'properties');
      const status = field(properties, 'status');
      if (typeof status !== 'string' || status === 'Connected') return;
      warned = true;
      const lastSeen = field(properties, 'lastStatusChange');
      const expires = field(field(operation, 'properties'), 'expiresOn');
      if (drawn) deps.stderr('\n');
      deps.stderr(
        `WARNING: ${printable(
          `${machine.name} is ${status}${typeof lastSeen === 'string' ? `, last seen ${lastSeen}` : ''}: the request waits for it to connect${typeof expires === 'string' ? ` until ${expires}, then fails` : ''}. Ctrl-C stops waiting; the request stays.`,
        )}\n`,
      );
    },
    done() {
      if (drawn) deps.stderr('\n');
    },
  };
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)[name]
    : undefined;
}
