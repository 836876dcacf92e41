// Carries out what the goal state asks for, one operation at a time in goal-state order, after
// the server's own policy said yes (S8, S9, S11): a refusal is reported as a failed operation
// naming the local rule and changes nothing. Protected settings are opened only here, only for
// an allowed operation, and never logged or reported.
import { openProtectedSettings } from '@tether/protocol/protected-settings';
import type { Clock } from '../../clock.js';
import type { LoadedConfig } from '../../config/local-config-file.js';
import { decideExtensionOperation, type ExtensionOperation } from '../../extension-policy.js';
import type {
  DesiredExtension,
  ExtensionHost,
  InstalledExtension,
  InstanceStatus,
  OperationOutcome,
  PackageFetcher,
} from '../extension-host.js';
import type { GoalState, GoalStateExtension, GoalStateOperation } from './goal-state.js';
import type { MachineKey } from '../../identity/machine-key.js';
import type { Credential } from './machine-credential.js';
import type { StatusReport } from './status-report.js';

export interface ReconcilerOptions {
  readonly host: ExtensionHost;
  /** localconfig.json as it is now; read before every decision. */
  readonly loadConfig: () => LoadedConfig;
  readonly credential: Pick<Credential, 'currentKey'>;
  /** A key replaced by a credential renewal, by its id, while the machine keeps it. */
  readonly retiredKey?: (keyId: string) => MachineKey | undefined;
  readonly fetchPackage: PackageFetcher;
  readonly report: (report: StatusReport) => void;
  readonly clock: Clock;
  readonly log: (line: string) => void;
}

type Failure = { readonly code: string; readonly message: string };

export class Reconciler {
  private latest: GoalState | undefined;
  private dirty = false;
  private reviewWanted = true; // start-up
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Operations carried out by this process, until the goal state stops listing them. */
  private readonly done = new Set<string>();

  constructor(private readonly options: ReconcilerOptions) {}

  /** A goal state from the control plane; the newest one wins if several wait. */
  update(state: GoalState): void {
    this.latest = state;
    this.kick();
  }

  /**
   * Start-up and local configuration changes: go through the goal state again. Only operations
   * change anything: an extension whose operation was refused or expired stays as it is until the
   * operator asks again, so what the control plane reported as Failed is what the server runs.
   */
  reevaluate(): void {
    this.reviewWanted = true;
    this.kick();
  }

  /** The local record changed (`azcmagent extension remove`): go through the goal state again. */
  recheck(): void {
    this.kick();
  }

  /** No new operation starts after this; one in progress finishes. */
  stop(): void {
    this.stopped = true;
  }

  /** Resolves once every goal state handed over so far has been worked through. */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  private kick(): void {
    this.dirty = true;
    if (this.running !== undefined || this.latest === undefined || this.stopped) return;
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  private async loop(): Promise<void> {
    while (this.dirty && !this.stopped && this.latest !== undefined) {
      this.dirty = false;
      const review = this.reviewWanted;
      this.reviewWanted = false;
      try {
        await this.pass(this.latest, review);
      } catch (error) {
        this.options.log(`reconciling failed: ${(error as Error).message}`);
      }
    }
  }

  private async pass(state: GoalState, review: boolean): Promise<void> {
    const { host } = this.options;
    const listed = new Set<string>();
    for (const extension of state.extensions) {
      if (this.stopped) return;
      const { operation } = extension;
      if (operation !== null) listed.add(operation.id);
      try {
        const local = this.installed().find((item) => item.name === extension.name);
        if (operation !== null && !this.done.has(operation.id)) {
          await this.carryOut(extension, operation, local);
          this.done.add(operation.id);
        } else if (operation === null && local?.removedLocallyAt !== undefined) {
          this.reportRemovedLocally(extension, null, local);
        }
      } catch (error) {
        this.options.log(`${extension.name}: ${(error as Error).message}`);
      }
    }
    for (const id of this.done) if (!listed.has(id)) this.done.delete(id);
    const names = new Set(state.extensions.map((item) => item.name));
    for (const local of this.installed()) {
      if (names.has(local.name)) continue;
      if (local.removedLocallyAt !== undefined) {
        host.forget(local.name); // the resource is gone: nobody to tell
      } else if (review) {
        this.options.log(
          `${local.name} (${local.publisher}.${local.type} ${local.version}) is installed but the control plane does not list it; left in place (remove it with 'sudo azcmagent extension remove --name ${local.name}')`,
        );
      }
    }
  }

  private async carryOut(
    extension: GoalStateExtension,
    operation: GoalStateOperation,
    local: InstalledExtension | undefined,
  ): Promise<void> {
    const { host, log } = this.options;
    const what = describe(extension, operation);
    if (
      operation.kind !== 'remove' &&
      local?.removedLocallyAt !== undefined &&
      extension.sequence <= local.sequence
    ) {
      this.reportRemovedLocally(extension, operation, local);
      return;
    }
    const decided = decisionOperation(operation.kind, extension, local);
    const decision = decideExtensionOperation(this.options.loadConfig(), decided, extension);
    if (!decision.allowed) {
      log(`${what}: refused by the local policy: ${decision.reason}`);
      this.fail(extension, operation.id, { code: decision.code, message: decision.reason }, local);
      return;
    }
    let outcome: OperationOutcome;
    try {
      if (operation.kind === 'remove') {
        outcome = await host.remove(extension.name);
      } else {
        const desired = await this.desired(extension);
        if ('code' in desired) {
          log(`${what}: ${desired.message}`);
          this.fail(extension, operation.id, desired, local);
          return;
        }
        // Asked again by the host once it holds the state lock and has the package.
        const permit = (): Failure | undefined => {
          const again = decideExtensionOperation(this.options.loadConfig(), decided, extension);
          return again.allowed ? undefined : { code: again.code, message: again.reason };
        };
        outcome = await host.apply(desired, this.options.fetchPackage, permit);
      }
    } catch (error) {
      outcome = this.failedOutcome({
        code: 'ERR_INTERNAL',
        message: `The extension service could not carry out the ${operation.kind}: ${(error as Error).message}`,
      });
    }
    log(
      `${what}: ${outcome.result}${outcome.error === undefined ? '' : ` (${outcome.error.code}: ${outcome.error.message})`}`,
    );
    this.reportOutcome(extension, operation.id, outcome);
  }

  private reportRemovedLocally(
    extension: GoalStateExtension,
    operation: GoalStateOperation | null,
    local: InstalledExtension,
  ): void {
    const message = `Extension ${extension.name} was removed on the server by a local administrator (azcmagent extension remove) at ${local.removedLocallyAt ?? 'an unknown time'}; the agent does not reinstall sequence ${local.sequence}. Change or PUT the extension again to install it.`;
    this.options.log(`${extension.name}: reporting its local removal`);
    this.fail(extension, operation?.id ?? null, { code: 'ERR_REMOVED_LOCALLY', message }, local);
    this.options.host.forget(extension.name);
  }

  /** The local record; a damaged one reads as nothing installed (the policy is asked as for an install). */
  private installed(): readonly InstalledExtension[] {
    try {
      return this.options.host.installed();
    } catch (error) {
      this.options.log(`cannot read what is installed: ${(error as Error).message}`);
      return [];
    }
  }

  /** The extension with its protected settings opened, or why they cannot be. */
  private async desired(extension: GoalStateExtension): Promise<DesiredExtension | Failure> {
    const sealed = extension.protectedSettings;
    let protectedSettings: Record<string, unknown> | null = null;
    if (sealed !== null) {
      const again = `PUT the extension ${extension.name} again with its protected settings so the control plane seals them to this machine's current key.`;
      let key;
      try {
        key = this.options.credential.currentKey();
      } catch (error) {
        return {
          code: 'ERR_PROTECTED_SETTINGS',
          message: `The protected settings cannot be opened: the machine key cannot be read (${(error as Error).message}).`,
        };
      }
      if (key.keyId !== sealed.keyId) {
        // Sealed before a credential renewal: the replaced key was kept for exactly this.
        const retired = this.options.retiredKey?.(sealed.keyId);
        if (retired === undefined) {
          return {
            code: 'ERR_PROTECTED_SETTINGS',
            message: `The protected settings were sealed to machine key ${sealed.keyId}, which this machine no longer has (its key is now ${key.keyId}). ${again}`,
          };
        }
        key = retired;
      }
      try {
        protectedSettings = await openProtectedSettings(sealed, key.privateKey);
      } catch (error) {
        return { code: 'ERR_PROTECTED_SETTINGS', message: `${(error as Error).message} ${again}` };
      }
    }
    return {
      name: extension.name,
      publisher: extension.publisher,
      type: extension.type,
      version: extension.version,
      sequence: extension.sequence,
      settings: extension.settings,
      protectedSettings,
    };
  }

  private fail(
    extension: GoalStateExtension,
    operationId: string | null,
    error: Failure,
    local: InstalledExtension | undefined,
  ): void {
    this.options.report(
      reportOf(
        extension,
        operationId,
        this.failedOutcome(error),
        local?.version ?? extension.version,
      ),
    );
  }

  private reportOutcome(
    extension: GoalStateExtension,
    operationId: string | null,
    outcome: OperationOutcome,
  ): void {
    const now = this.installed().find((item) => item.name === extension.name);
    const version =
      outcome.result === 'Succeeded' ? extension.version : (now?.version ?? extension.version);
    this.options.report(reportOf(extension, operationId, outcome, version));
  }

  private failedOutcome(error: Failure): OperationOutcome {
    const status: InstanceStatus = {
      code: error.code,
      level: 'Error',
      displayStatus: 'Provisioning failed',
      message: error.message,
      time: new Date(this.options.clock.now()).toISOString(),
    };
    return { result: 'Failed', error, status };
  }
}

/** What the policy is asked: an install when nothing is installed, an upgrade when the version moves. */
export function decisionOperation(
  kind: GoalStateOperation['kind'],
  desired: Pick<GoalStateExtension, 'version'>,
  local: InstalledExtension | undefined,
): ExtensionOperation {
  if (kind === 'remove') return 'remove';
  if (local === undefined || local.removedLocallyAt !== undefined) return 'install';
  if (kind === 'upgrade' || local.version !== desired.version) return 'upgrade';
  return 'update';
}

function reportOf(
  extension: GoalStateExtension,
  operationId: string | null,
  outcome: OperationOutcome,
  version: string,
): StatusReport {
  return {
    name: extension.name,
    operationId,
    sequence: extension.sequence,
    result: outcome.result,
    ...(outcome.result === 'Failed' ? { error: reportedError(outcome) } : {}),
    instanceView: {
      name: extension.name,
      type: extension.type,
      typeHandlerVersion: version,
      status: outcome.status,
    },
  };
}

/** The control plane keeps at most 4096 characters of a message. */
const MAX_MESSAGE = 4_000;

function reportedError(outcome: OperationOutcome): { code: string; message: string } {
  const error = outcome.error ?? { code: outcome.status.code, message: outcome.status.message };
  const message =
    error.message.length > MAX_MESSAGE ? `${error.message.slice(0, MAX_MESSAGE)}…` : error.message;
  return { code: error.code, message };
}

function describe(extension: GoalStateExtension, operation: GoalStateOperation): string {
  return `${operation.kind} of ${extension.name} (${extension.publisher}.${extension.type} ${extension.version}, sequence ${extension.sequence}, operation ${operation.id})`;
}
