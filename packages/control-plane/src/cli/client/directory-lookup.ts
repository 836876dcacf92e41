// Finds directory objects the way `az` flags name them: a service principal by appId or object
// id, a group by object id or display name, any principal by appId, object id or sign-in name.
import type { ApiClient } from './api-client.js';
import { ApiError } from './api-error.js';
import { CliError, usageError } from './cli-error.js';
import { odataString } from './odata.js';
import { isGuid } from './scope.js';
import type {
  DirectoryGroup,
  DirectoryUser,
  PrincipalType,
  ServicePrincipal,
} from './wire-types.js';

export interface ResolvedPrincipal {
  id: string;
  type: PrincipalType;
  displayName: string;
}

/** `--id`: a service principal's appId or object id. */
export async function findServicePrincipal(
  client: ApiClient,
  id: string,
  flag = '--id',
): Promise<ServicePrincipal> {
  if (!isGuid(id)) {
    throw usageError(`${flag} '${id}' is not an appId or object id: expected a GUID.`, flag);
  }
  const byAppId = await client.list<ServicePrincipal>('/v1.0/servicePrincipals', {
    $filter: `appId eq ${odataString(id)}`,
  });
  const match = byAppId.find((sp) => sp.appId.toLowerCase() === id.toLowerCase());
  if (match !== undefined) return match;
  const byObjectId = await client.find<ServicePrincipal>(
    `/v1.0/servicePrincipals/${encodeURIComponent(id)}`,
  );
  if (byObjectId !== undefined) return byObjectId;
  throw new CliError(
    'ERR_NOT_FOUND',
    `no service principal has appId or object id '${id}' (${flag}); 'tether sp list' shows them.`,
  );
}

/** `--group`: a principal group's object id or display name. */
export async function findGroup(
  client: ApiClient,
  group: string,
  flag = '--group',
): Promise<DirectoryGroup> {
  if (isGuid(group)) {
    const byId = await client.find<DirectoryGroup>(`/v1.0/groups/${encodeURIComponent(group)}`);
    if (byId !== undefined) return byId;
  }
  const named = (
    await client.list<DirectoryGroup>('/v1.0/groups', {
      $filter: `displayName eq ${odataString(group)}`,
    })
  ).filter((candidate) => candidate.displayName === group);
  if (named.length === 1 && named[0] !== undefined) return named[0];
  if (named.length > 1) {
    throw usageError(
      `${flag} '${group}' names ${named.length} groups (${named.map((g) => g.id).join(', ')}); pass the object id instead.`,
      flag,
    );
  }
  throw new CliError(
    'ERR_NOT_FOUND',
    `no group has object id or display name '${group}' (${flag}); 'tether ad group list' shows them.`,
  );
}

/** `--assignee` / `--member-id`: an appId, an object id or a user principal name. */
export async function findPrincipal(
  client: ApiClient,
  assignee: string,
  flag = '--assignee',
): Promise<ResolvedPrincipal> {
  if (assignee.includes('@')) {
    const user = await findUserByName(client, assignee);
    if (user !== undefined) return { id: user.id, type: 'User', displayName: user.displayName };
    throw new CliError(
      'ERR_NOT_FOUND',
      `no user has the user principal name '${assignee}' (${flag}).`,
    );
  }
  if (!isGuid(assignee)) {
    throw usageError(
      `${flag} '${assignee}' is not an appId, object id (GUID) or user principal name (name@domain).`,
      flag,
    );
  }
  const byAppId = await client.list<ServicePrincipal>('/v1.0/servicePrincipals', {
    $filter: `appId eq ${odataString(assignee)}`,
  });
  const sp = byAppId.find((candidate) => candidate.appId.toLowerCase() === assignee.toLowerCase());
  if (sp !== undefined) return { id: sp.id, type: 'ServicePrincipal', displayName: sp.displayName };
  const id = encodeURIComponent(assignee);
  const kinds = [
    ['servicePrincipals', 'ServicePrincipal'],
    ['users', 'User'],
    ['groups', 'Group'],
  ] as const;
  for (const [collection, type] of kinds) {
    const found = await client.find<{ id: string; displayName: string }>(
      `/v1.0/${collection}/${id}`,
    );
    if (found !== undefined) return { id: found.id, type, displayName: found.displayName };
  }
  throw new CliError(
    'ERR_NOT_FOUND',
    `no user, group or service principal has the appId or object id '${assignee}' (${flag}).`,
  );
}

async function findUserByName(client: ApiClient, name: string): Promise<DirectoryUser | undefined> {
  const same = (user: DirectoryUser): boolean =>
    user.userPrincipalName.toLowerCase() === name.toLowerCase();
  try {
    const filtered = await client.list<DirectoryUser>('/v1.0/users', {
      $filter: `userPrincipalName eq ${odataString(name)}`,
    });
    return filtered.find(same);
  } catch (error) {
    // A directory that filters users only by displayName: look through the whole list.
    if (!(error instanceof ApiError) || error.status !== 400) throw error;
    return (await client.list<DirectoryUser>('/v1.0/users')).find(same);
  }
}
