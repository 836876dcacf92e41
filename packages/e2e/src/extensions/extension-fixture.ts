// What every extension end-to-end test starts from: a real control plane with the first-party
// extensions published and signed by a publisher key, and a connected agent that trusts that key
// for both first-party publishers, running HIMDS and its extension service.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armInput, createResourceGroup, type ClientAnswer } from '../arm/arm-fixtures.js';
import {
  connectAgent,
  firstPartyPackages,
  makePublisherKey,
  publishPackage,
  runNodeClient,
  startControlPlane,
  type ConnectedAgent,
  type ControlPlane,
  type PublisherKey,
} from '../harness/index.js';
export { waitFor } from '../harness/index.js';

export const API = 'api-version=2021-05-20';
export const CUSTOM_SCRIPT = { publisher: 'Microsoft.Azure.Extensions', type: 'CustomScript' };
export const MONITOR_AGENT = {
  publisher: 'Microsoft.Azure.Monitor',
  type: 'AzureMonitorLinuxAgent',
};

/** The published CustomScript's version (x.y.z). */
export function customScriptVersion(): string {
  const found = firstPartyPackages().find(
    (p) => p.publisher === CUSTOM_SCRIPT.publisher && p.type === CUSTOM_SCRIPT.type,
  );
  if (found === undefined) throw new Error('CustomScript is not among the first-party packages');
  return found.version;
}

/** The published CustomScript's `typeHandlerVersion` (x.y). */
export function customScriptHandlerVersion(): string {
  return customScriptVersion().split('.').slice(0, 2).join('.');
}

export interface ExtensionFixture {
  readonly plane: ControlPlane;
  readonly agent: ConnectedAgent;
  readonly key: PublisherKey;
  /** Scratch folder deleted by stop(). */
  readonly scratch: string;
  extensionPath(name: string): string;
  /** The unmodified SDK's create-or-update, polled to the end. */
  deploy(name: string, properties: Record<string, unknown>): Promise<ClientAnswer<SdkExtension>>;
  remove(name: string): Promise<ClientAnswer<unknown>>;
  /** GET through the API as the bootstrap Owner. */
  get(name: string): Promise<{ status: number; body: Record<string, unknown> }>;
  /** azcmagent with the agent's root. */
  azcmagent(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

export interface SdkExtension {
  name: string;
  properties?: {
    provisioningState?: string;
    instanceView?: { status?: { code?: string; level?: string; message?: string } };
    [key: string]: unknown;
  };
}

export async function startExtensionFixture(
  options: {
    serverArgs?: readonly string[];
    machine?: string;
    /** A control plane already running (stopped with the fixture); a new one otherwise. */
    plane?: ControlPlane;
  } = {},
): Promise<ExtensionFixture> {
  const scratch = mkdtempSync(join(tmpdir(), 'tether-ext-e2e-'));
  const plane =
    options.plane ?? (await startControlPlane({ serverArgs: options.serverArgs ?? [] }));
  let agent: ConnectedAgent | undefined;
  try {
    const key = await makePublisherKey(plane, join(scratch, 'publisher'));
    for (const ref of firstPartyPackages()) await publishPackage(plane, key, ref);
    await createResourceGroup(plane, 'servers');
    agent = await connectAgent(plane, {
      resourceGroup: 'servers',
      name: options.machine ?? 'web-01',
    });
    for (const { publisher } of [CUSTOM_SCRIPT, MONITOR_AGENT]) {
      const trusted = await agent.run([
        'extension',
        'trust',
        '--publisher',
        publisher,
        '--key',
        key.publicKeyFile,
      ]);
      if (trusted.status !== 0) throw new Error(`extension trust: ${trusted.stderr}`);
    }
    await agent.startHimds();
    await agent.startExtensionService();
    const running = agent;
    const client = <T>(action: string, extra: Record<string, unknown>) =>
      runNodeClient<ClientAnswer<T>>(
        'arm-machine-extensions',
        [armInput(plane, action, { resourceGroup: 'servers', machine: running.name, ...extra })],
        plane.clientEnv(),
      );
    const extensionPath = (name: string): string =>
      `${running.machinePath}/extensions/${name}?${API}`;
    return {
      plane,
      agent: running,
      key,
      scratch,
      extensionPath,
      deploy: (name, properties) =>
        client<SdkExtension>('createOrUpdate', {
          name,
          extension: { location: 'westeurope', properties },
        }),
      remove: (name) => client('delete', { name }),
      get: (name) => plane.admin.call('GET', extensionPath(name)),
      azcmagent: (...args) => running.run(args),
      async stop() {
        await running.stop();
        await plane.stop();
        rmSync(scratch, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await agent?.stop();
    await plane.stop();
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
}

/** `properties` of an extension GET. */
export function propertiesOf(body: Record<string, unknown>): Record<string, unknown> {
  return (body['properties'] ?? {}) as Record<string, unknown>;
}

/** `properties.instanceView.status.message` of an extension GET, or ''. */
export function statusMessageOf(body: Record<string, unknown>): string {
  const view = propertiesOf(body)['instanceView'] as { status?: { message?: string } } | undefined;
  return view?.status?.message ?? '';
}
