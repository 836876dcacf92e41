// The actions that guard directory management (users, groups, service principals and group
// membership). They live under Microsoft.Authorization on purpose: Contributor's notActions
// (Microsoft.Authorization/*/Write, …/*/Delete) then keep a Contributor from minting
// credentials or joining a privileged group, while Owner and User Access Administrator can.

/** Directory actions are checked at the tenant root: the directory is not below any subscription. */
export const DIRECTORY_SCOPE = '/';

export const DIRECTORY_ACTIONS = {
  servicePrincipalsRead: 'Microsoft.Authorization/directory/servicePrincipals/read',
  servicePrincipalsWrite: 'Microsoft.Authorization/directory/servicePrincipals/write',
  servicePrincipalsDelete: 'Microsoft.Authorization/directory/servicePrincipals/delete',
  usersRead: 'Microsoft.Authorization/directory/users/read',
  usersWrite: 'Microsoft.Authorization/directory/users/write',
  usersDelete: 'Microsoft.Authorization/directory/users/delete',
  groupsRead: 'Microsoft.Authorization/directory/groups/read',
  groupsWrite: 'Microsoft.Authorization/directory/groups/write',
  groupsDelete: 'Microsoft.Authorization/directory/groups/delete',
  groupMembersWrite: 'Microsoft.Authorization/directory/groups/members/write',
} as const;

export type DirectoryAction = (typeof DIRECTORY_ACTIONS)[keyof typeof DIRECTORY_ACTIONS];
