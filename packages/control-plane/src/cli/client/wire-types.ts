// The shapes of control-plane answers the CLI reads (docs/api.md); only the fields it uses.

export interface ServicePrincipal {
  id: string;
  appId: string;
  displayName: string;
  /** Where a web app's people may be sent after signing in. */
  replyUrls?: string[];
  passwordCredentials?: PasswordCredential[];
  keyCredentials?: KeyCredential[];
}

export interface PasswordCredential {
  keyId: string;
  displayName?: string;
  startDateTime?: string;
  endDateTime?: string;
  /** Present only in the answer to addPassword. */
  secretText?: string;
}

export interface KeyCredential {
  keyId: string;
  displayName?: string;
  customKeyIdentifier?: string;
  startDateTime?: string;
  endDateTime?: string;
}

export interface DirectoryUser {
  id: string;
  displayName: string;
  userPrincipalName: string;
}

export interface DirectoryGroup {
  id: string;
  displayName: string;
  description?: string | null;
}

export interface DirectoryMember {
  id: string;
  '@odata.type'?: string;
  displayName?: string;
}

export type PrincipalType = 'User' | 'Group' | 'ServicePrincipal';

export interface ArmRoleDefinition {
  id: string;
  name: string;
  type?: string;
  properties: {
    roleName: string;
    description?: string;
    type?: string;
    permissions?: unknown[];
    assignableScopes?: string[];
  };
}

export interface ArmRoleAssignment {
  id: string;
  name: string;
  type?: string;
  properties: {
    roleDefinitionId: string;
    principalId: string;
    principalType?: PrincipalType;
    scope: string;
    [more: string]: unknown;
  };
}

export interface Subscription {
  id?: string;
  subscriptionId: string;
  displayName?: string;
  state?: string;
  tenantId?: string;
}

export interface ArmResource {
  id: string;
  name: string;
  type?: string;
  location?: string;
  tags?: Record<string, string>;
  properties?: Record<string, unknown>;
}

export interface AccessEntry {
  principalId: string;
  principalType: PrincipalType;
  displayName?: string | null;
  roleDefinitionId: string;
  roleName: string;
  assignmentId: string;
  assignedAt: string;
  inherited: boolean;
  viaGroup?: string | null;
  indirectAdministrator: boolean;
}

export type RootDoorName = 'extensions' | 'guestConfiguration' | 'machineWrite';

export interface RootDoor {
  name: RootDoorName;
  open: boolean;
  closedBy: string | null;
  openBecause: string | null;
}

/** One principal that can run code as root on a machine, and through which doors. */
export interface RootPrincipal {
  principalId: string;
  principalType: PrincipalType | 'MachineIdentity';
  displayName: string | null;
  viaGroup: { id: string; displayName: string | null } | null;
  doors: RootDoorName[];
  grants: { roleName: string; assignmentId: string; assignedAt: string; actions: string[] }[];
  indirectAdministrator: boolean;
}

export interface RootAccessReport {
  machineId: string;
  localConfiguration: Record<string, unknown>;
  doors: RootDoor[];
  principals: RootPrincipal[];
  heldOffCount: number;
  nobody: boolean;
  summary: string;
}

/** One machine of the fleet view of root access. */
export interface RootAccessRow {
  machineId: string;
  name: string;
  resourceGroup: string;
  reported: boolean;
  openDoors: RootDoorName[];
  principalCount: number;
  nobody: boolean;
}

export interface ActivityEvent {
  eventDataId: string;
  correlationId: string;
  caller: string;
  /** Tether's: the caller's display name (a machine identity's machine name); null if deleted. */
  callerDisplayName?: string | null;
  operationName: { value: string; localizedValue?: string };
  status: { value: string; localizedValue?: string };
  subStatus?: { value: string; localizedValue?: string } | string;
  resourceId: string;
  resourceGroupName?: string;
  eventTimestamp: string;
  httpRequest?: { method?: string; clientIpAddress?: string };
  properties?: Record<string, unknown>;
}
