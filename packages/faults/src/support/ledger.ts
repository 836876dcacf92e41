// Writes made through the API while a fault strikes, each recorded client-side only once it was
// answered 2xx, and read back afterwards: a machine's tags carry the number of its latest write,
// and every write's correlation id must be in the activity log.
import { randomUUID } from 'node:crypto';
import type { SimulatedMachine } from '@tether/bench/dist/fleet/fleet-protocol.js';
import type { TetherApi } from '@tether/bench/dist/machine-fleet.js';

const MACHINE_VERSION = 'api-version=2024-07-10';

export interface Acknowledged {
  readonly machine: string;
  readonly sequence: number;
  readonly correlationId: string;
}

export class WriteLedger {
  readonly acknowledged: Acknowledged[] = [];
  /** Answers that were not 2xx, by status (0: no answer). */
  readonly refused: Record<string, number> = {};
  readonly retryAfter = new Set<string>();
  #running = false;
  #loop: Promise<void> | undefined;

  constructor(
    private readonly machines: readonly SimulatedMachine[],
    /** The API clients to write through, one after another. */
    private readonly apis: readonly TetherApi[],
    private readonly token: string,
  ) {}

  /**
   * Writes one machine after another, every `pauseMs`, until stop(); `padTags` more tags of
   * 250 characters make each write larger.
   */
  start(pauseMs = 20, padTags = 0): void {
    const padding: Record<string, string> = {};
    for (let i = 0; i < padTags; i++) padding[`pad${i}`] = 'x'.repeat(250);
    this.#running = true;
    this.#loop = (async () => {
      for (let sequence = 1; this.#running; sequence++) {
        const machine = this.machines[sequence % this.machines.length] as SimulatedMachine;
        const correlationId = randomUUID();
        const client = this.apis[sequence % this.apis.length] as TetherApi;
        try {
          const answer = await client.call(
            'PATCH',
            `${machine.path}?${MACHINE_VERSION}`,
            this.token,
            { tags: { ...padding, fault: String(sequence) } },
            { 'x-ms-correlation-request-id': correlationId },
          );
          if (answer.status >= 200 && answer.status < 300) {
            this.acknowledged.push({ machine: machine.name, sequence, correlationId });
          } else {
            this.refused[answer.status] = (this.refused[answer.status] ?? 0) + 1;
            if (answer.headers['retry-after'] !== undefined)
              this.retryAfter.add(answer.headers['retry-after']);
          }
        } catch {
          this.refused[0] = (this.refused[0] ?? 0) + 1;
        }
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  /**
   * Reads every acknowledged write back through `api`; returns what is missing (empty when
   * nothing acknowledged was lost).
   */
  async missing(api: TetherApi, subscriptionId: string, since: Date): Promise<string[]> {
    const lost: string[] = [];
    const latest = new Map<string, number>();
    for (const a of this.acknowledged)
      latest.set(a.machine, Math.max(latest.get(a.machine) ?? 0, a.sequence));
    for (const machine of this.machines) {
      const wanted = latest.get(machine.name);
      if (wanted === undefined) continue;
      const answer = await api.call('GET', `${machine.path}?${MACHINE_VERSION}`, this.token);
      const tags = (JSON.parse(answer.text) as { tags?: Record<string, string> }).tags ?? {};
      // A later write may have been applied without its answer arriving: never an earlier one.
      if (answer.status !== 200 || Number(tags['fault'] ?? 0) < wanted) {
        lost.push(`${machine.name}: tags say ${tags['fault'] ?? 'nothing'} after write ${wanted}`);
      }
    }
    const logged = await this.#activityCorrelationIds(api, subscriptionId, since);
    for (const a of this.acknowledged) {
      if (!logged.has(a.correlationId))
        lost.push(`activity log: no entry for write ${a.sequence} (${a.correlationId})`);
    }
    return lost;
  }

  async #activityCorrelationIds(
    api: TetherApi,
    subscriptionId: string,
    since: Date,
  ): Promise<Set<string>> {
    const ids = new Set<string>();
    const filter = `eventTimestamp ge '${since.toISOString()}' and eventTimestamp le '${new Date(Date.now() + 60_000).toISOString()}'`;
    let path: string | undefined =
      `/subscriptions/${subscriptionId}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=${encodeURIComponent(filter)}`;
    while (path !== undefined) {
      const answer = await api.call('GET', path, this.token);
      if (answer.status !== 200)
        throw new Error(`activity log answered ${answer.status}: ${answer.text}`);
      const page = JSON.parse(answer.text) as {
        value: { correlationId: string }[];
        nextLink?: string;
      };
      for (const event of page.value) ids.add(event.correlationId);
      path =
        page.nextLink === undefined
          ? undefined
          : new URL(page.nextLink).pathname + new URL(page.nextLink).search;
    }
    return ids;
  }
}

/** An extension request answered 2xx, and the operation the SDK would follow for it. */
export interface AcknowledgedRequest {
  readonly machine: string;
  readonly command: string;
  readonly operation: string;
}

/**
 * Extension requests made through the API while a fault strikes, one per machine (a machine
 * takes one at a time), each recorded only once answered 2xx, and read back afterwards: the
 * extension carries the request's settings, and its operation is found.
 */
export class ExtensionLedger {
  readonly acknowledged: AcknowledgedRequest[] = [];
  /** Answers that were not 2xx, by status (0: no answer). */
  readonly refused: Record<string, number> = {};
  #running = false;
  #loop: Promise<void> | undefined;

  constructor(
    private readonly machines: readonly SimulatedMachine[],
    /** The API clients to write through, one after another. */
    private readonly apis: readonly TetherApi[],
    private readonly token: string,
    /** The published package each request installs. */
    private readonly ref: {
      readonly publisher: string;
      readonly type: string;
      readonly version: string;
    },
  ) {}

  /** Requests one machine's extension after another, every `pauseMs`, until stop() or done. */
  start(pauseMs: number): void {
    this.#running = true;
    this.#loop = (async () => {
      for (let i = 0; this.#running && i < this.machines.length; i++) {
        const machine = this.machines[i] as SimulatedMachine;
        const client = this.apis[i % this.apis.length] as TetherApi;
        const command = `echo ${randomUUID()}`;
        try {
          const answer = await client.call('PUT', this.#path(machine), this.token, {
            location: 'westeurope',
            properties: {
              publisher: this.ref.publisher,
              type: this.ref.type,
              typeHandlerVersion: this.ref.version.split('.').slice(0, 2).join('.'),
              settings: { commandToExecute: command },
            },
          });
          const operation = answer.headers['azure-asyncoperation'];
          if (answer.status >= 200 && answer.status < 300 && typeof operation === 'string') {
            const url = new URL(operation);
            this.acknowledged.push({
              machine: machine.name,
              command,
              operation: url.pathname + url.search,
            });
          } else {
            this.refused[answer.status] = (this.refused[answer.status] ?? 0) + 1;
          }
        } catch {
          this.refused[0] = (this.refused[0] ?? 0) + 1;
        }
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  /** Reads every acknowledged request back through `api`; returns what is missing. */
  async missing(api: TetherApi): Promise<string[]> {
    const lost: string[] = [];
    const byName = new Map(this.machines.map((m) => [m.name, m]));
    for (const a of this.acknowledged) {
      const machine = byName.get(a.machine) as SimulatedMachine;
      const extension = await api.call('GET', this.#path(machine), this.token);
      const settings = (
        JSON.parse(extension.text) as { properties?: { settings?: { commandToExecute?: string } } }
      ).properties?.settings;
      if (extension.status !== 200 || settings?.commandToExecute !== a.command) {
        lost.push(
          `${a.machine}: extension answered ${extension.status} with ${JSON.stringify(settings)}, not "${a.command}"`,
        );
      }
      const operation = await api.call('GET', a.operation, this.token);
      if (operation.status !== 200) {
        lost.push(`${a.machine}: its request's operation answered ${operation.status}`);
      }
    }
    return lost;
  }

  #path(machine: SimulatedMachine): string {
    return `${machine.path}/extensions/${this.ref.type}?${MACHINE_VERSION}`;
  }
}
