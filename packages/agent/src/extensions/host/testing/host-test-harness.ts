// A host under a temporary AZCMAGENT_ROOT, with a trusted publisher key and a package builder.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../../../clock.js';
import { makeTempRoot, type TempRoot } from '../../../test-support/temp-root.js';
import type { DesiredExtension, FetchedPackage } from '../../extension-host.js';
import {
  createExtensionHost,
  type ExtensionHostInternals,
  type TetherExtensionHost,
} from '../create-extension-host.js';
import {
  buildZip,
  fixedFetcher,
  handlerEntries,
  publisherKeys,
  signedPackage,
  trust,
  type HandlerOptions,
  type PublisherKeys,
} from './test-fixtures.js';

export const PUBLISHER = 'Contoso.Test';
export const TYPE = 'Probe';

export interface Harness {
  readonly temp: TempRoot;
  readonly host: TetherExtensionHost;
  readonly keys: PublisherKeys;
  readonly logs: string[];
  readonly callLog: string;
  readonly packages: Map<string, FetchedPackage>;
  readonly fetch: ReturnType<typeof fixedFetcher>;
  /** Builds, signs and serves a handler package for `version` (of TYPE unless `type` says). */
  publish(
    version: string,
    options?: Omit<HandlerOptions, 'callLog' | 'version'> & { type?: string },
  ): Promise<void>;
  desired(version: string, sequence: number, extra?: Partial<DesiredExtension>): DesiredExtension;
  calls(): string[];
  remove(): Promise<void>;
}

export function harness(
  extra: ExtensionHostInternals & { commandTimeoutMs?: number } = {},
): Harness {
  const temp = makeTempRoot();
  const logs: string[] = [];
  const keys = publisherKeys();
  trust(temp.paths, PUBLISHER, keys);
  const callLog = join(temp.root, 'calls.log');
  const packages = new Map<string, FetchedPackage>();
  const fetch = fixedFetcher(packages);
  const host = createExtensionHost({
    paths: temp.paths,
    clock: systemClock,
    log: (line) => logs.push(line),
    himdsPort: 40999,
    endpoint: 'https://tether.example:8443',
    resourceId: '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m1',
    caFile: '/etc/tether/ca.crt',
    cpuLimitPercent: () => 5,
    commandTimeoutMs: extra.commandTimeoutMs ?? 20_000,
    baseEnv: {
      PATH: process.env.PATH,
      HOME: '/root',
      AZURE_CLIENT_SECRET: 'leaked-secret',
      LANG: 'C',
    },
    ...extra,
  });
  return {
    temp,
    host,
    keys,
    logs,
    callLog,
    packages,
    fetch,
    async publish(version, options = {}) {
      const type = options.type ?? TYPE;
      const zip = await buildZip(handlerEntries({ ...options, callLog, version }));
      const identity = { publisher: PUBLISHER, type, version };
      packages.set(
        `${PUBLISHER}/${type}/${version}`,
        await signedPackage(identity, zip, keys.privateKey),
      );
    },
    desired(version, sequence, more = {}) {
      return {
        name: 'probe',
        publisher: PUBLISHER,
        type: TYPE,
        version,
        sequence,
        settings: { commandToExecute: 'echo hi' },
        protectedSettings: null,
        ...more,
      };
    },
    calls() {
      try {
        return readFileSync(callLog, 'utf8').trim().split('\n').filter(Boolean);
      } catch {
        return [];
      }
    },
    async remove() {
      await host.stopHosted();
      temp.remove();
    },
  };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
