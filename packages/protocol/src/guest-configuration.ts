// The guest configuration package format (a declarative list of audit rules) and the per-rule
// compliance report the agent produces from it; shared by the agent and the control plane.

export type ComplianceStatus = 'Compliant' | 'NonCompliant';

/** Guest configuration assignment types, as Azure names them. */
export type AssignmentType = 'Audit' | 'ApplyAndMonitor' | 'ApplyAndAutoCorrect';

/** How a value found in a config file or under /proc/sys is judged. Exactly one is set. */
export type ValueExpectation =
  | { readonly equals: string }
  | { readonly oneOf: readonly string[] }
  | { readonly atMost: number }
  | { readonly atLeast: number }
  | { readonly matches: string };

export type ConfigFileFormat = 'sshd' | 'loginDefs' | 'sysctl';

export type AccountsCheck = 'onlyRootUid0' | 'noEmptyPasswords' | 'passwordHashSha512';

interface RuleBase {
  /** Azure's baseline rule id (`5.2.1`, `106.7`) or the publisher's own. */
  readonly id: string;
  readonly title: string;
}

export interface FileRule extends RuleBase {
  readonly kind: 'file';
  /** Absolute path on the server. */
  readonly path: string;
  /** true: must exist; false: must not exist; omitted: the other checks apply if it exists. */
  readonly present?: boolean;
  readonly owner?: string;
  readonly group?: string;
  /** Octal permission bits that must match exactly (`"0644"`). */
  readonly mode?: string;
  /** Octal permission bits the file may have at most: no bit outside these (`"0600"`). */
  readonly maxMode?: string;
}

export interface ConfigKeyRule extends RuleBase {
  readonly kind: 'configKey';
  readonly path: string;
  readonly format: ConfigFileFormat;
  readonly key: string;
  readonly expect: ValueExpectation;
  /** The value in force when the key is absent (sshd's built-in defaults); absent otherwise fails. */
  readonly default?: string;
  /** What remediation writes; defaults to `expect.equals`. Without either, audit only. */
  readonly remediateTo?: string;
}

export interface KernelParameterRule extends RuleBase {
  readonly kind: 'kernelParameter';
  /** Dotted sysctl name, read live from /proc/sys. */
  readonly name: string;
  readonly expect: ValueExpectation;
}

export interface PackageRule extends RuleBase {
  readonly kind: 'package';
  /** dpkg package names. */
  readonly names: readonly string[];
  /** true: every one installed; false: none installed. */
  readonly installed: boolean;
}

export interface AccountsRule extends RuleBase {
  readonly kind: 'accounts';
  readonly check: AccountsCheck;
}

export interface SystemdUnitRule extends RuleBase {
  readonly kind: 'systemdUnit';
  readonly unit: string;
  readonly enabled: boolean;
}

export interface CommandRule extends RuleBase {
  readonly kind: 'command';
  /** argv; the first element is an absolute path. No shell unless the publisher names one. */
  readonly command: readonly string[];
  readonly timeoutSeconds: number;
  readonly compliantExitCodes: readonly number[];
}

export type GuestConfigurationRule =
  | FileRule
  | ConfigKeyRule
  | KernelParameterRule
  | PackageRule
  | AccountsRule
  | SystemdUnitRule
  | CommandRule;

export type RuleKind = GuestConfigurationRule['kind'];

export interface GuestConfiguration {
  readonly name: string;
  readonly version: string;
  readonly rules: readonly GuestConfigurationRule[];
}

export interface ComplianceReason {
  /** Stable, machine-readable (`file.mode`, `configKey.value`). */
  readonly code: string;
  /** What was found and what was expected, for a person. */
  readonly phrase: string;
}

export interface RuleResult {
  readonly id: string;
  readonly complianceStatus: ComplianceStatus;
  readonly reasons: readonly ComplianceReason[];
}

export interface GuestConfigurationReport {
  readonly name: string;
  readonly version: string;
  /** Compliant only when every rule is. */
  readonly complianceStatus: ComplianceStatus;
  readonly rules: readonly RuleResult[];
}

/** The file inside a guest configuration package zip that holds the configuration. */
export const CONFIGURATION_FILE = 'configuration.json';

/** The `typ` of a guest configuration package signature, so no extension signature passes. */
export const GUEST_CONFIGURATION_SIGNATURE_TYPE = 'tether-guest-configuration+jws';

/**
 * The agent's own folders: no rule may name a path under them, so that no configuration —
 * remediating or not — can change the agent.
 */
export const AGENT_FOLDERS: readonly string[] = [
  '/opt/azcmagent',
  '/var/opt/azcmagent',
  '/var/lib/GuestConfig',
  '/var/lib/waagent',
];

/** The agent folder `path` (absolute, normalized) lies in, if any. */
export function agentFolderOf(path: string): string | undefined {
  return AGENT_FOLDERS.find((folder) => path === folder || path.startsWith(`${folder}/`));
}
