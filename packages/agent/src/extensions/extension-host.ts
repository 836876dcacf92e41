// The seam between the extension service's reconcile loop (what the control plane asks for,
// checked against the local policy) and the handler host (packages, handler folders, commands,
// hosted processes, the local record of what is installed). See docs/extensions.md.
import type { PackageIdentity } from '@tether/protocol/extension-package';
import type { Clock } from '../clock.js';
import type { AgentPaths } from '../paths.js';

/** One extension as it should be on this server, with protected settings already opened. */
export interface DesiredExtension {
  /** The extension resource's name (unique per machine). */
  readonly name: string;
  readonly publisher: string;
  readonly type: string;
  /** The exact package version to run. */
  readonly version: string;
  /** The handler's `config/<sequence>.settings`. */
  readonly sequence: number;
  readonly settings: Readonly<Record<string, unknown>>;
  /** Clear text, only in memory and in the 0600 settings file for the handler. */
  readonly protectedSettings: Readonly<Record<string, unknown>> | null;
}

/** A package as the repository serves it: not yet verified. */
export interface FetchedPackage {
  readonly zip: Uint8Array;
  readonly signature: string;
}

export type PackageFetcher = (identity: PackageIdentity) => Promise<FetchedPackage>;

/**
 * The server's policy asked again (localconfig.json as it is then): undefined to go on, else the
 * refusal. An administrator may block an extension while its operation waits for the state lock
 * or its package downloads; what they set before the first handler command runs must hold.
 */
export type OperationPermit = () => { readonly code: string; readonly message: string } | undefined;

/** ARM `instanceView.status`. */
export interface InstanceStatus {
  readonly code: string;
  readonly level: 'Info' | 'Warning' | 'Error';
  readonly displayStatus: string;
  readonly message: string;
  /** ISO-8601. */
  readonly time: string;
}

export interface OperationOutcome {
  readonly result: 'Succeeded' | 'Failed';
  /** Present when Failed: a stable code (ERR_…) and a message naming the cause and the fix. */
  readonly error?: { readonly code: string; readonly message: string };
  readonly status: InstanceStatus;
}

/** What `var/opt/azcmagent/extensions/state.json` records per extension name. */
export interface InstalledExtension {
  readonly name: string;
  readonly publisher: string;
  readonly type: string;
  readonly version: string;
  readonly sequence: number;
  /** `enabled` after a successful enable; `failed` when the last operation failed on the server. */
  readonly state: 'enabled' | 'failed' | 'disabled';
  readonly status: InstanceStatus;
  readonly installedAt: string;
  readonly updatedAt: string;
  /**
   * Removed locally (`azcmagent extension remove`) while the control plane still lists it: the
   * service reports the removal and does not reinstall that sequence.
   */
  readonly removedLocallyAt?: string;
}

export interface ExtensionHost {
  /**
   * Installs `desired` (install → enable), or brings an installed one to it: a new sequence
   * with the same version → enable; another version → disable old → update new → uninstall old
   * → enable new. Downloads through `fetch` and verifies the signature before unpacking.
   * Never throws for a failed handler or package: the outcome says what failed.
   * `permit` is asked once the state lock is held and again once the package is unpacked, before
   * any handler command runs; a refusal is the outcome and changes nothing.
   */
  apply(
    desired: DesiredExtension,
    fetch: PackageFetcher,
    permit?: OperationPermit,
  ): Promise<OperationOutcome>;
  /**
   * disable → uninstall → delete the folder. Absent → Succeeded. `local` (an administrator's
   * `azcmagent extension remove`) keeps a record with `removedLocallyAt`, so the service does not
   * reinstall that sequence; otherwise the record goes too.
   */
  remove(name: string, options?: { readonly local?: boolean }): Promise<OperationOutcome>;
  /** Forgets a `removedLocallyAt` record once the control plane has been told. */
  forget(name: string): void;
  /** The local record, sorted by name. */
  installed(): readonly InstalledExtension[];
  /** Starts (or keeps running) the hosted processes of enabled extensions (S11). */
  startHosted(): void;
  /** Stops every hosted process; installed extensions stay on disk. */
  stopHosted(): Promise<void>;
}

/** What the service gives the host; handlers and hosted processes see these as environment. */
export interface ExtensionHostOptions {
  readonly paths: AgentPaths;
  readonly clock: Clock;
  readonly log: (line: string) => void;
  /** HIMDS port for IDENTITY_ENDPOINT/IMDS_ENDPOINT (AZCMAGENT_HIMDS_PORT, default 40342). */
  readonly himdsPort: number;
  /** Control plane URL and this machine's ARM id (TETHER_ENDPOINT, TETHER_RESOURCE_ID); absent when not connected. */
  readonly endpoint: string | undefined;
  readonly resourceId: string | undefined;
  /** The agent's CA file for NODE_EXTRA_CA_CERTS, when it has one. */
  readonly caFile: string | undefined;
  /** extensions.agent.cpulimit, read when a process starts. */
  readonly cpuLimitPercent: () => number;
  /** The proxy variables of proxy.url and proxy.bypass, read when a command starts. */
  readonly proxyEnv?: () => Readonly<Record<string, string>> | undefined;
  /** Per handler command; 5 minutes unless a test shortens it. */
  readonly commandTimeoutMs?: number;
}
