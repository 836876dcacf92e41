// An ExtensionHost that records what it was asked and keeps its "installed" list in memory, for
// tests of the layer above the handler host.
import type {
  DesiredExtension,
  ExtensionHost,
  InstalledExtension,
  OperationOutcome,
  OperationPermit,
  PackageFetcher,
} from '../../extension-host.js';

export type HostCall =
  | { readonly call: 'apply'; readonly desired: DesiredExtension }
  | { readonly call: 'remove'; readonly name: string }
  | { readonly call: 'forget'; readonly name: string }
  | { readonly call: 'startHosted' }
  | { readonly call: 'stopHosted' };

const TIME = '2030-01-01T00:00:00.000Z';

export class FakeExtensionHost implements ExtensionHost {
  readonly calls: HostCall[] = [];
  readonly records = new Map<string, InstalledExtension>();
  hostedRunning = false;
  /** Operations in progress right now, and the most there ever were at once. */
  active = 0;
  maxActive = 0;
  /** When set, apply and remove wait for it (to observe one-at-a-time). */
  gate: Promise<void> | undefined;
  /** The outcome apply gives; Succeeded unless a test changes it. */
  applyResult: 'Succeeded' | 'Failed' = 'Succeeded';

  async apply(
    desired: DesiredExtension,
    _fetch: PackageFetcher,
    permit?: OperationPermit,
  ): Promise<OperationOutcome> {
    this.calls.push({ call: 'apply', desired });
    await this.busy();
    const refused = permit?.();
    if (refused !== undefined) {
      return {
        result: 'Failed',
        error: refused,
        status: { ...ok(refused.message), code: refused.code, level: 'Error' },
      };
    }
    if (this.applyResult === 'Succeeded') {
      this.records.set(desired.name, {
        name: desired.name,
        publisher: desired.publisher,
        type: desired.type,
        version: desired.version,
        sequence: desired.sequence,
        state: 'enabled',
        status: ok('Enable succeeded'),
        installedAt: TIME,
        updatedAt: TIME,
      });
      return { result: 'Succeeded', status: ok('Enable succeeded') };
    }
    return {
      result: 'Failed',
      error: { code: 'ERR_HANDLER_FAILED', message: 'enable exited with 1' },
      status: { ...ok('Enable failed'), code: '1', level: 'Error' },
    };
  }

  async remove(name: string): Promise<OperationOutcome> {
    this.calls.push({ call: 'remove', name });
    await this.busy();
    this.records.delete(name);
    return { result: 'Succeeded', status: ok('Uninstall succeeded') };
  }

  forget(name: string): void {
    this.calls.push({ call: 'forget', name });
    this.records.delete(name);
  }

  installed(): readonly InstalledExtension[] {
    return [...this.records.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  startHosted(): void {
    this.calls.push({ call: 'startHosted' });
    this.hostedRunning = true;
  }

  stopHosted(): Promise<void> {
    this.calls.push({ call: 'stopHosted' });
    this.hostedRunning = false;
    return Promise.resolve();
  }

  /** The names of the calls made, e.g. `apply:CustomScript`. */
  callNames(): string[] {
    return this.calls.map((entry) =>
      entry.call === 'apply'
        ? `apply:${entry.desired.name}`
        : entry.call === 'remove' || entry.call === 'forget'
          ? `${entry.call}:${entry.name}`
          : entry.call,
    );
  }

  private async busy(): Promise<void> {
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      await this.gate;
    } finally {
      this.active -= 1;
    }
  }
}

function ok(displayStatus: string): OperationOutcome['status'] {
  return { code: '0', level: 'Info', displayStatus, message: displayStatus, time: TIME };
}
