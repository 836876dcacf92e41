// What the extension service does about the goal state's agent upgrade: nothing, report an
// outcome at once, or install the package. Pure, so every refusal is a table row in its test.
// The package must be signed by a key root trusts here (azcmagent upgrade trust): the control
// plane alone can never make this machine run a program as root.
import {
  compareDebianVersions,
  type AgentUpgradeGoal,
  type AgentUpgradeStatus,
} from '@tether/protocol/agent-upgrade';
import type { LoadedConfig } from '../config/local-config-file.js';
import type { UpgradeRecord } from './upgrade-record.js';

export type UpgradeDecision =
  | { readonly kind: 'none' }
  | { readonly kind: 'report'; readonly status: AgentUpgradeStatus; readonly message: string }
  | { readonly kind: 'install' };

/** What the goal's signature was found to be, checked against the keys trusted here. */
export type SignatureVerdict =
  | { readonly kind: 'no-keys' }
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'verified' };

export const NO_TRUSTED_KEY =
  "no key is trusted for agent packages on this machine: azcmagent upgrade trust --key FILE (as root) trusts the publisher's public key";

export interface UpgradeSituation {
  readonly goal: AgentUpgradeGoal | null;
  /** The version this agent runs. */
  readonly runningVersion: string;
  /** Where the agent runs from, when not from the installed azcmagent package; else undefined. */
  readonly notPackaged: string | undefined;
  readonly config: LoadedConfig;
  /** The last attempt this machine recorded, if any. */
  readonly record: UpgradeRecord | undefined;
  readonly signature: SignatureVerdict;
}

/** Why upgrades are refused here, or undefined when they are allowed. */
export function localRefusal(config: LoadedConfig): string | undefined {
  if (config.state !== 'ok') {
    return `${config.paths.localConfig} cannot be used (${config.reason}); agent upgrades are refused until it is repaired`;
  }
  if (!config.settings['agentupgrade.enabled']) {
    return "agent upgrades are turned off on this machine by its administrator (agentupgrade.enabled is false; 'azcmagent config set agentupgrade.enabled true' allows them)";
  }
  return undefined;
}

export function decideUpgrade(situation: UpgradeSituation): UpgradeDecision {
  const { goal, record, runningVersion } = situation;
  if (goal === null) return { kind: 'none' };
  if (record?.correlationId === goal.correlationId) {
    if (record.state === 'done') return { kind: 'none' };
    // An install began and this process is what came after it: the package's restart, or
    // the same process after a crash.
    return compareDebianVersions(runningVersion, goal.version) === 0
      ? { kind: 'report', status: 'Success', message: `The agent runs version ${goal.version}.` }
      : {
          kind: 'report',
          status: 'Failed',
          message: `The installation of version ${goal.version} did not finish: the agent still runs ${runningVersion} (see /var/log/dpkg.log on the machine).`,
        };
  }
  // Nothing to install changes nothing on the machine, whatever its settings.
  const order = compareDebianVersions(goal.version, runningVersion);
  if (order === 0) {
    return {
      kind: 'report',
      status: 'Success',
      message: `The agent already runs version ${goal.version}.`,
    };
  }
  const refusal = localRefusal(situation.config);
  if (refusal !== undefined) {
    return { kind: 'report', status: 'Failed', message: `Refused on the machine: ${refusal}.` };
  }
  const { signature } = situation;
  if (signature.kind === 'no-keys') {
    return {
      kind: 'report',
      status: 'Failed',
      message: `Refused on the machine: ${NO_TRUSTED_KEY}.`,
    };
  }
  if (signature.kind !== 'verified') {
    return {
      kind: 'report',
      status: 'Failed',
      message: `Refused on the machine: the package's signature is not accepted (${signature.reason}); nothing was installed.`,
    };
  }
  if (order < 0) {
    return {
      kind: 'report',
      status: 'Failed',
      message: `Refused on the machine: version ${goal.version} is older than the ${runningVersion} it runs, and the agent is never downgraded remotely; publish a newer version instead.`,
    };
  }
  if (situation.notPackaged !== undefined) {
    return {
      kind: 'report',
      status: 'Failed',
      message: `The agent is not installed from a package (it runs from ${situation.notPackaged}), so it cannot be upgraded with one; install the azcmagent package on the machine.`,
    };
  }
  return { kind: 'install' };
}
