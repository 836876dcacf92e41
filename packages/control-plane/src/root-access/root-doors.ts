// The one place that decides which doors to root a machine's own settings leave open to
// Tether's role holders (the effective-access report). Pure: no I/O, no clock. A machine that
// has never reported counts every door its settings could close as open (fail closed).
import {
  formatExtensionName,
  isAllowNone,
  listIncludesExtension,
  type AgentConfiguration,
} from '@tether/protocol';
import { isScriptCapable } from './script-capable-extensions.js';

export type DoorName = 'extensions' | 'guestConfiguration' | 'machineWrite';

export interface Door {
  readonly name: DoorName;
  readonly open: boolean;
  /** The setting (or rule) that closes the door; null while it is open. */
  readonly closedBy: string | null;
  /** Why the door is open; null while it is closed. */
  readonly openBecause: string | null;
}

/** The actions that go through each door, matched against role definitions. */
export const DOOR_ACTIONS: { readonly [D in DoorName]: readonly string[] } = Object.freeze({
  extensions: ['Microsoft.HybridCompute/machines/extensions/write'],
  guestConfiguration: [
    'Microsoft.GuestConfiguration/guestConfigurationAssignments/write',
    // A policy assignment of a guest configuration policy writes such assignments.
    'Microsoft.Authorization/policyAssignments/write',
  ],
  machineWrite: ['Microsoft.HybridCompute/machines/write'],
});

/**
 * Whoever may write role assignments may grant itself any role there, so it reaches every
 * door; Tether, like Azure, does not stop an assignment writer from assigning more than it holds.
 */
export const EVERY_DOOR_ACTION = 'Microsoft.Authorization/roleAssignments/write';

export const DOOR_NAMES: readonly DoorName[] = ['extensions', 'guestConfiguration', 'machineWrite'];

/** Doors no setting opens: a principal reaching only these is not held off by the machine. */
export const CLOSED_BY_DESIGN: ReadonlySet<DoorName> = new Set<DoorName>(['machineWrite']);

const NEVER_REPORTED =
  'the machine has never reported its local settings, so nothing is known to close it';

/**
 * Overwriting a machine (re-onboarding) gives the resource a new key and a new identity and
 * drops every grant to the old one: the server that was connected is cut off and runs nothing
 * it is sent. So in Tether this door is closed by design, whatever the machine reports.
 */
const MACHINE_WRITE_CLOSED =
  'Tether itself: overwriting (re-onboarding) a machine gives it a new key and identity and cuts the connected server off, which then runs nothing it is sent';

/** The three doors of one machine, from its last reported configuration (undefined: never). */
export function decideDoors(configuration: AgentConfiguration | undefined): Door[] {
  return [
    extensionsDoor(configuration),
    guestConfigurationDoor(configuration),
    closed('machineWrite', MACHINE_WRITE_CLOSED),
  ];
}

function extensionsDoor(configuration: AgentConfiguration | undefined): Door {
  if (configuration === undefined) return open('extensions', NEVER_REPORTED);
  if (configuration.extensionsEnabled === 'false') {
    return closed(
      'extensions',
      'extensions.enabled is false: the extension manager runs no extension operations',
    );
  }
  const allowlist = configuration.extensionsAllowList;
  const blocklist = configuration.extensionsBlockList;
  const monitor = configuration.configMode === 'monitor';
  if (allowlist.length === 0) {
    return open(
      'extensions',
      blocklist.length === 0
        ? 'no allowlist is set: any extension may be installed'
        : 'no allowlist is set: any extension not in extensions.blocklist may be installed, and a blocklist cannot name every script-capable type',
    );
  }
  // As the agent decides: Allow/None refuses every install, but only in full mode.
  if (!monitor && allowlist.some(isAllowNone)) {
    return closed(
      'extensions',
      'extensions.allowlist is Allow/None: no extension may be installed',
    );
  }
  const admitted = allowlist.filter((e) => !listIncludesExtension(blocklist, e));
  const capable = admitted.filter(isScriptCapable).map(formatExtensionName);
  const list = monitor ? "monitor mode's vendor allowlist" : 'extensions.allowlist';
  if (capable.length > 0) {
    return open('extensions', `${list} admits script-capable extension ${capable.join(', ')}`);
  }
  const blocked = admitted.length < allowlist.length ? ' once extensions.blocklist is applied' : '';
  const allowed = monitor
    ? ''
    : admitted.length === 0
      ? ''
      : ` (it allows ${admitted.map(formatExtensionName).join(', ')})`;
  return closed('extensions', `${list} admits no script-capable extension${blocked}${allowed}`);
}

function guestConfigurationDoor(configuration: AgentConfiguration | undefined): Door {
  if (configuration === undefined) return open('guestConfiguration', NEVER_REPORTED);
  if (configuration.guestConfigurationEnabled === 'false') {
    return closed(
      'guestConfiguration',
      configuration.configMode === 'monitor'
        ? 'monitor mode turns guest configuration off'
        : 'guestconfiguration.enabled is false: no guest configuration runs',
    );
  }
  return open(
    'guestConfiguration',
    'guestconfiguration.enabled is true: a remediating guest configuration runs as root',
  );
}

function open(name: DoorName, because: string): Door {
  return { name, open: true, closedBy: null, openBecause: because };
}

function closed(name: DoorName, by: string): Door {
  return { name, open: false, closedBy: by, openBecause: null };
}
