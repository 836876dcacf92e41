// Crosses who holds a door action at or above a machine (groups expanded) with the doors the
// machine's own settings leave open: the answer to "who can run code as root here". Pure.
import type { AgentConfiguration } from '@tether/protocol';
import type { AccessEntry } from '../rbac/types.js';
import {
  CLOSED_BY_DESIGN,
  DOOR_ACTIONS,
  DOOR_NAMES,
  EVERY_DOOR_ACTION,
  decideDoors,
  type Door,
  type DoorName,
} from './root-doors.js';

export type RootPrincipalType = 'User' | 'Group' | 'ServicePrincipal' | 'MachineIdentity';

export interface PrincipalFacts {
  displayName: string | null;
  /** Set when the principal is a machine's system-assigned identity. */
  machineIdentity: boolean;
}

export interface RootGrant {
  roleName: string;
  roleDefinitionName: string;
  assignmentName: string;
  assignedAt: string;
  /** The door actions the role grants (what makes it a way in). */
  actions: string[];
}

export interface RootPrincipal {
  principalId: string;
  principalType: RootPrincipalType;
  displayName: string | null;
  viaGroup: { id: string; displayName: string | null } | null;
  /** Open doors this principal reaches. */
  doors: DoorName[];
  grants: RootGrant[];
  indirectAdministrator: true;
}

export interface LocalConfigurationView {
  reported: boolean;
  reportedAt: string | null;
  extensionsEnabled: boolean | null;
  guestConfigurationEnabled: boolean | null;
  allowlist: string[];
  blocklist: string[];
  mode: 'full' | 'monitor' | null;
}

export interface RootAccessReport {
  localConfiguration: LocalConfigurationView;
  doors: Door[];
  principals: RootPrincipal[];
  /** Principals whose roles would reach a door the machine's settings keep closed. */
  heldOffCount: number;
  nobody: boolean;
  summary: string;
}

export interface RootAccessInput {
  machineName: string;
  configuration: AgentConfiguration | undefined;
  reportedAt: string | null;
  entries: readonly AccessEntry[];
  /** Which door actions a role grants; asked once per role and action. */
  roleAllows: (roleDefinitionName: string, action: string) => boolean;
  principal: (principalId: string) => PrincipalFacts | undefined;
}

const DOOR_LABEL: { readonly [D in DoorName]: string } = {
  extensions: 'extensions',
  guestConfiguration: 'guest configuration',
  machineWrite: 'machine overwrite',
};

const ACTIONS = [...new Set([...DOOR_NAMES.flatMap((d) => DOOR_ACTIONS[d]), EVERY_DOOR_ACTION])];

/** The door actions a role grants and the doors they reach, memoized per role. */
export class DoorActionIndex {
  private readonly byRole = new Map<string, { actions: string[]; doors: DoorName[] }>();

  constructor(private readonly allows: (role: string, action: string) => boolean) {}

  of(roleDefinitionName: string): { actions: string[]; doors: DoorName[] } {
    const key = roleDefinitionName.toLowerCase();
    let found = this.byRole.get(key);
    if (found === undefined) {
      const actions = ACTIONS.filter((a) => this.allows(roleDefinitionName, a));
      const doors = DOOR_NAMES.filter(
        (d) =>
          actions.includes(EVERY_DOOR_ACTION) || DOOR_ACTIONS[d].some((a) => actions.includes(a)),
      );
      found = { actions, doors };
      this.byRole.set(key, found);
    }
    return found;
  }
}

/** The ids of the principals reaching an open door, and of those held off by closed ones. */
export function reachOf(
  entries: readonly AccessEntry[],
  doors: readonly Door[],
  index: DoorActionIndex,
): { through: Map<string, Set<DoorName>>; heldOff: Set<string> } {
  const open = new Set(doors.filter((d) => d.open).map((d) => d.name));
  const through = new Map<string, Set<DoorName>>();
  const heldOff = new Set<string>();
  for (const entry of entries) {
    const reached = index.of(entry.roleDefinitionName).doors;
    if (reached.length === 0) continue;
    const key = entry.principalId.toLowerCase();
    const openReached = reached.filter((d) => open.has(d));
    if (openReached.length === 0) {
      if (reached.some((d) => !CLOSED_BY_DESIGN.has(d))) heldOff.add(key);
      continue;
    }
    const set = through.get(key) ?? new Set<DoorName>();
    for (const d of openReached) set.add(d);
    through.set(key, set);
  }
  for (const key of through.keys()) heldOff.delete(key);
  return { through, heldOff };
}

export function rootAccessReport(input: RootAccessInput): RootAccessReport {
  const doors = decideDoors(input.configuration);
  const index = new DoorActionIndex(input.roleAllows);
  const open = new Set(doors.filter((d) => d.open).map((d) => d.name));
  const byKey = new Map<string, RootPrincipal>();
  for (const entry of input.entries) {
    const { actions, doors: reached } = index.of(entry.roleDefinitionName);
    const openReached = reached.filter((d) => open.has(d));
    if (openReached.length === 0) continue;
    const key = `${entry.principalId.toLowerCase()}|${entry.viaGroup?.toLowerCase() ?? ''}`;
    let principal = byKey.get(key);
    if (principal === undefined) {
      const facts = input.principal(entry.principalId);
      principal = {
        principalId: entry.principalId,
        principalType: facts?.machineIdentity === true ? 'MachineIdentity' : entry.principalType,
        displayName: facts?.displayName ?? null,
        viaGroup:
          entry.viaGroup === undefined
            ? null
            : {
                id: entry.viaGroup,
                displayName: input.principal(entry.viaGroup)?.displayName ?? null,
              },
        doors: [],
        grants: [],
        indirectAdministrator: true,
      };
      byKey.set(key, principal);
    }
    principal.doors = DOOR_NAMES.filter(
      (d) => principal.doors.includes(d) || openReached.includes(d),
    );
    principal.grants.push({
      roleName: entry.roleName,
      roleDefinitionName: entry.roleDefinitionName,
      assignmentName: entry.assignmentName,
      assignedAt: entry.assignedAt,
      // Only the actions that make it a way in through a door open here.
      actions: actions.filter(
        (a) => a === EVERY_DOOR_ACTION || openReached.some((d) => DOOR_ACTIONS[d].includes(a)),
      ),
    });
  }
  const principals = [...byKey.values()].sort(
    (a, b) =>
      (a.displayName ?? a.principalId).localeCompare(b.displayName ?? b.principalId) ||
      a.principalId.localeCompare(b.principalId),
  );
  const { heldOff } = reachOf(input.entries, doors, index);
  const nobody = principals.length === 0;
  return {
    localConfiguration: localConfigurationView(input.configuration, input.reportedAt),
    doors,
    principals,
    heldOffCount: heldOff.size,
    nobody,
    summary: summaryOf(input.machineName, input.configuration !== undefined, doors, principals),
  };
}

function localConfigurationView(
  configuration: AgentConfiguration | undefined,
  reportedAt: string | null,
): LocalConfigurationView {
  if (configuration === undefined) {
    return {
      reported: false,
      reportedAt: null,
      extensionsEnabled: null,
      guestConfigurationEnabled: null,
      allowlist: [],
      blocklist: [],
      mode: null,
    };
  }
  return {
    reported: true,
    reportedAt,
    extensionsEnabled: configuration.extensionsEnabled === 'true',
    guestConfigurationEnabled: configuration.guestConfigurationEnabled === 'true',
    allowlist: configuration.extensionsAllowList.map((e) => `${e.publisher}/${e.type}`),
    blocklist: configuration.extensionsBlockList.map((e) => `${e.publisher}/${e.type}`),
    mode: configuration.configMode,
  };
}

const NAMED = 5;

function summaryOf(
  machine: string,
  reported: boolean,
  doors: readonly Door[],
  principals: readonly RootPrincipal[],
): string {
  const never = reported
    ? ''
    : ` ${machine} has never reported its local settings, so every door they could close counts as open.`;
  if (principals.length === 0) {
    const why = doors
      .map((d) =>
        d.open
          ? `${DOOR_LABEL[d.name]}: open, but no principal holds a role that uses it`
          : `${DOOR_LABEL[d.name]}: closed by ${d.closedBy ?? ''}`,
      )
      .join('; ');
    return `Nobody, through Tether, can run code as root on ${machine} — ${why}.${never}`;
  }
  const ids = new Set(principals.map((p) => p.principalId.toLowerCase()));
  const names = [...new Map(principals.map((p) => [p.principalId.toLowerCase(), p])).values()]
    .slice(0, NAMED)
    .map(
      (p) => `${p.displayName ?? p.principalId} (${p.doors.map((d) => DOOR_LABEL[d]).join(', ')})`,
    );
  const more = ids.size > NAMED ? `, and ${ids.size - NAMED} more` : '';
  const openDoors = doors
    .filter((d) => d.open)
    .map((d) => `${DOOR_LABEL[d.name]} is open because ${d.openBecause ?? ''}`)
    .join('; ');
  const count = ids.size === 1 ? '1 principal' : `${ids.size} principals`;
  return `${count} can run code as root on ${machine} through Tether: ${names.join(', ')}${more}. ${capitalize(openDoors)}.${never}`;
}

function capitalize(text: string): string {
  return text.length === 0 ? text : `${text[0]?.toUpperCase() ?? ''}${text.slice(1)}`;
}
