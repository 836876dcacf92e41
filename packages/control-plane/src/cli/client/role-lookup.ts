// Resolves `--role` as `az` does: a role name ('Reader'), a role GUID or a role definition id.
import type { ApiClient } from './api-client.js';
import { API_VERSIONS } from './api-versions.js';
import { CliError, usageError } from './cli-error.js';
import { odataString } from './odata.js';
import { isGuid, scopePath } from './scope.js';
import type { ArmRoleDefinition } from './wire-types.js';

const DEFINITION_ID = /\/providers\/Microsoft\.Authorization\/roleDefinitions\/([^/]+)$/i;

export function roleDefinitionsPath(scope: string): string {
  return `${scopePath(scope)}/providers/Microsoft.Authorization/roleDefinitions`;
}

export async function findRoleDefinition(
  client: ApiClient,
  role: string,
  scope: string,
  flag = '--role',
): Promise<ArmRoleDefinition> {
  const query = { 'api-version': API_VERSIONS.authorization };
  const guid = DEFINITION_ID.exec(role)?.[1] ?? role;
  if (isGuid(guid)) {
    const found = await client.find<ArmRoleDefinition>(
      `${roleDefinitionsPath(scope)}/${encodeURIComponent(guid)}`,
      query,
    );
    if (found !== undefined) return found;
    throw new CliError(
      'ERR_NOT_FOUND',
      `no role definition has the id '${guid}' at scope '${scope}' (${flag}); 'tether role definition list' shows the roles.`,
    );
  }
  if (role.trim() === '') throw usageError(`${flag} is empty: give a role name or id.`, flag);
  const named = (
    await client.list<ArmRoleDefinition>(roleDefinitionsPath(scope), {
      ...query,
      $filter: `roleName eq ${odataString(role)}`,
    })
  ).filter((definition) => definition.properties.roleName.toLowerCase() === role.toLowerCase());
  if (named.length === 1 && named[0] !== undefined) return named[0];
  if (named.length > 1) {
    throw usageError(
      `${flag} '${role}' names ${named.length} role definitions (${named.map((d) => d.name).join(', ')}); pass the role's GUID instead.`,
      flag,
    );
  }
  throw new CliError(
    'ERR_NOT_FOUND',
    `no role named '${role}' can be assigned at scope '${scope}' (${flag}); 'tether role definition list' shows the roles.`,
  );
}
