// A fleet for extension route tests: an ArmTestApp with a group, two machines with agent keys,
// an operator per role, an identity per machine holding the machine role at its machine, and
// packages written straight into the repository's table.
import { randomUUID } from 'node:crypto';
import type { PolicySource } from '../../guest-configuration/policy-source.js';
import {
  CONNECTED_MACHINE_ONBOARDING_ROLE_ID,
  CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR_ROLE_ID,
  READER_ROLE_ID,
  TETHER_CONNECTED_MACHINE_ROLE_ID,
} from '../../rbac/built-in-roles.js';
import {
  ArmTestApp,
  type InjectOptions,
  type InjectResult,
} from '../../resources/testing/arm-test-app.js';
import { TestMachineAgent } from '../../machines/testing/test-machine-agent.js';
import type { TestBackend } from '../../store/testing/test-databases.js';

export const V = 'api-version=2021-05-20';
export const AGENT_V = 'api-version=2024-07-10';

export class ExtensionTestWorld {
  private constructor(
    readonly t: ArmTestApp,
    readonly sub: string,
    readonly admin: string,
    readonly reader: string,
    readonly onboarder: string,
    readonly machineA: string,
    readonly machineB: string,
    readonly agentA: TestMachineAgent,
  ) {}

  static async create(
    options: { pageSize?: number; policy?: PolicySource; backend?: TestBackend } = {},
  ): Promise<ExtensionTestWorld> {
    const t = await ArmTestApp.start(options);
    const sub = await t.addSubscription();
    const group = await t.addResourceGroup(sub, 'Fleet');
    const agentA = TestMachineAgent.create();
    for (const [name, agent] of [
      ['web-01', agentA],
      ['web-02', TestMachineAgent.create()],
    ] as const) {
      const id = await t.addMachine(sub, 'Fleet', name);
      await t.db
        .updateTable('machines')
        .set({ properties: JSON.stringify({ osName: 'linux', clientPublicKey: agent.spki }) })
        .where('id', '=', id)
        .execute();
    }
    const principal = async (role: string, scope: string): Promise<string> => {
      const id = await t.addPrincipal();
      await t.assign(id, role, scope);
      return id;
    };
    const machineScope = (name: string) =>
      `${group}/providers/microsoft.hybridcompute/machines/${name}`;
    /** The machine's system-assigned identity, as onboarding makes it. */
    const machineIdentity = async (name: string): Promise<string> => {
      const id = await principal(TETHER_CONNECTED_MACHINE_ROLE_ID, machineScope(name));
      await t.db
        .updateTable('principals')
        .set({ machine_id: machineScope(name) })
        .where('id', '=', id)
        .execute();
      return id;
    };
    return new ExtensionTestWorld(
      t,
      sub,
      await principal(CONNECTED_MACHINE_RESOURCE_ADMINISTRATOR_ROLE_ID, group),
      await principal(READER_ROLE_ID, group),
      await principal(CONNECTED_MACHINE_ONBOARDING_ROLE_ID, group),
      await machineIdentity('web-01'),
      await machineIdentity('web-02'),
      agentA,
    );
  }

  close(): Promise<void> {
    return this.t.close();
  }

  machine(name = 'web-01'): string {
    return `/subscriptions/${this.sub}/resourceGroups/Fleet/providers/Microsoft.HybridCompute/machines/${name}`;
  }

  extension(name: string, machine = 'web-01'): string {
    return `${this.machine(machine)}/extensions/${name}`;
  }

  async publish(publisher: string, type: string, ...versions: string[]): Promise<void> {
    for (const version of versions) {
      await this.t.db
        .insertInto('extension_packages')
        .values({
          id: `${publisher}/${type}/${version}`.toLowerCase(),
          publisher,
          type,
          version,
          sha256: '00'.repeat(32),
          size: 4,
          signature: 'signature',
          content: Buffer.from('zip!').toString('base64'),
          published_at: new Date(this.t.clock.now()).toISOString(),
          published_by: 'test',
        })
        .execute();
    }
  }

  call(method: string, url: string, options: InjectOptions = {}): Promise<InjectResult> {
    return this.t.inject(method, url, options);
  }

  put(name: string, properties: Record<string, unknown>, as = this.admin, machine = 'web-01') {
    return this.call('PUT', `${this.extension(name, machine)}?${V}`, {
      as,
      body: { location: 'westeurope', properties },
    });
  }

  goalState(query = '', as = this.machineA, machine = 'web-01'): Promise<InjectResult> {
    return this.call('GET', `${this.machine(machine)}/extensionGoalState?${AGENT_V}${query}`, {
      as,
    });
  }

  report(body: Record<string, unknown>, as = this.machineA): Promise<InjectResult> {
    return this.call('POST', `${this.machine()}/extensionStatus?${AGENT_V}`, { as, body });
  }

  /** The operation status URL of an answer, as a path the app can be called with. */
  static operationPath(answer: InjectResult): string {
    const url = String(answer.headers['azure-asyncoperation']);
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  }
}

export const CUSTOM_SCRIPT = {
  publisher: 'Microsoft.Azure.Extensions',
  type: 'CustomScript',
};

export function newGuid(): string {
  return randomUUID();
}
