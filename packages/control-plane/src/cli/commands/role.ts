// `tether role`: role definitions and role assignments, with az's verbs and flags
// (`az role assignment create --assignee X --role R --scope S`).
import { randomUUID } from 'node:crypto';
import { Option, type Command } from 'commander';
import type { ApiClient } from '../client/api-client.js';
import { API_VERSIONS } from '../client/api-versions.js';
import { processCliDeps, type CliDeps } from '../client/cli-deps.js';
import { usageError } from '../client/cli-error.js';
import {
  configureGroup,
  defineAction,
  outputOption,
  subscriptionOption,
  type ActionContext,
  type OutputOptions,
  type SubscriptionOptions,
} from '../client/command-kit.js';
import { findPrincipal, type ResolvedPrincipal } from '../client/directory-lookup.js';
import { odataString } from '../client/odata.js';
import type { Column } from '../client/output-format.js';
import { parseGuid, parseResourceGroupName, parseScopeArgument } from '../client/parsers.js';
import { findAssignments, type ScopeMatch } from '../client/role-assignment-query.js';
import {
  assignRole,
  flattenAssignment,
  roleGuidOf,
  type FlatRoleAssignment,
} from '../client/role-assignments.js';
import { readRoleDefinitionInput } from '../client/role-definition-input.js';
import { findRoleDefinition, roleDefinitionsPath } from '../client/role-lookup.js';
import { parseScope, resourceGroupScope, subscriptionScope } from '../client/scope.js';
import type { ArmRoleAssignment, ArmRoleDefinition, PrincipalType } from '../client/wire-types.js';

interface ScopeOptions extends SubscriptionOptions, OutputOptions {
  scope?: string;
  resourceGroup?: string;
}

interface AssigneeOptions {
  assignee?: string;
  assigneeObjectId?: string;
  assigneePrincipalType?: PrincipalType;
}

type AssignmentOptions = ScopeOptions & AssigneeOptions & { role?: string };

interface FlatRoleDefinition {
  id: string;
  name: string;
  type: string;
  roleName: string;
  roleType?: string;
  description?: string;
  permissions?: unknown[];
  assignableScopes?: string[];
}

const QUERY = { 'api-version': API_VERSIONS.authorization };

const DEFINITION_COLUMNS: readonly Column<FlatRoleDefinition>[] = [
  { header: 'RoleName', value: (d) => d.roleName },
  { header: 'Name', value: (d) => d.name },
  { header: 'Type', value: (d) => d.roleType },
  { header: 'Description', value: (d) => d.description },
];

const ASSIGNMENT_COLUMNS: readonly Column<FlatRoleAssignment>[] = [
  { header: 'Principal', value: (a) => a.principalName ?? a.principalId },
  { header: 'PrincipalType', value: (a) => a.principalType },
  { header: 'Role', value: (a) => a.roleDefinitionName ?? roleGuidOf(a.roleDefinitionId) },
  { header: 'Scope', value: (a) => a.scope },
];

export function register(program: Command, deps: CliDeps = processCliDeps()): void {
  const role = configureGroup(program.command('role'), deps).description(
    'Role-based access control: role definitions and assignments (az role).',
  );
  const definition = role
    .command('definition')
    .description('Roles: named sets of allowed actions.');
  withScope(definition.command('list'))
    .description('List the role definitions that can be assigned at a scope.')
    .option('-n, --name <role>', 'only this role: a role name or GUID')
    .option('--custom-role-only', 'only custom roles')
    .action(
      defineAction<ScopeOptions & { name?: string; customRoleOnly?: boolean }>(
        deps,
        listDefinitions,
      ),
    );
  definition
    .command('create')
    .description('Create a custom role.')
    .requiredOption(
      '--role-definition <json>',
      'JSON or @file with Name, Description, Actions, NotActions, AssignableScopes',
    )
    .addOption(outputOption())
    .action(defineAction<OutputOptions & { roleDefinition: string }>(deps, createDefinition));
  withScope(definition.command('delete'), false)
    .description('Delete a custom role that has no assignments.')
    .requiredOption('-n, --name <role>', 'role name or GUID')
    .action(
      defineAction<ScopeOptions & { name: string }>(deps, async (o, c) => {
        const session = await c.session(o.subscription);
        const scope = scopeOf(o, session.subscriptionId);
        const found = await findRoleDefinition(session.client, o.name, scope, '--name');
        await session.client.delete(found.id, { query: QUERY });
      }),
    );

  const assignment = role.command('assignment').description('Who holds which role where.');
  withAssignee(withScope(assignment.command('create')))
    .description('Assign a role to a user, group or service principal at a scope.')
    .requiredOption('--role <role>', 'role name or GUID')
    .action(defineAction<AssignmentOptions>(deps, createAssignment));
  withAssignee(withScope(assignment.command('list')))
    .description('List role assignments at a scope (default: the subscription).')
    .option('--role <role>', 'only this role: a role name or GUID')
    .option('--include-inherited', 'also assignments made above the scope')
    .option('--all', 'assignments above, at and below the scope')
    .action(
      defineAction<AssignmentOptions & { includeInherited?: boolean; all?: boolean }>(
        deps,
        listAssignments,
      ),
    );
  withAssignee(withScope(assignment.command('delete'), false))
    .description('Delete role assignments by id, or those matching --assignee and/or --role.')
    .option('--role <role>', 'role name or GUID')
    .option('--ids <id...>', 'space-separated role assignment ids')
    .action(defineAction<AssignmentOptions & { ids?: string[] }>(deps, deleteAssignments));
}

async function listDefinitions(
  options: ScopeOptions & { name?: string; customRoleOnly?: boolean },
  context: ActionContext,
): Promise<void> {
  const session = await context.session(options.subscription);
  const scope = scopeOf(options, session.subscriptionId);
  let found: ArmRoleDefinition[];
  if (options.name !== undefined) {
    found = [await findRoleDefinition(session.client, options.name, scope, '--name')];
  } else {
    found = await session.client.list<ArmRoleDefinition>(roleDefinitionsPath(scope), QUERY);
  }
  const flat = found
    .map(flattenDefinition)
    .filter((d) => options.customRoleOnly !== true || d.roleType === 'CustomRole');
  context.print(flat, options.output, DEFINITION_COLUMNS);
}

async function createDefinition(
  options: OutputOptions & { roleDefinition: string },
  context: ActionContext,
): Promise<void> {
  const input = await readRoleDefinitionInput(options.roleDefinition);
  const scope = input.assignableScopes[0] ?? '/';
  const { client } = await context.session();
  const clash = (
    await client.list<ArmRoleDefinition>(roleDefinitionsPath(scope), {
      ...QUERY,
      $filter: `roleName eq ${odataString(input.roleName)}`,
    })
  ).find((d) => d.properties.roleName.toLowerCase() === input.roleName.toLowerCase());
  if (clash !== undefined) {
    throw usageError(
      `a role named '${input.roleName}' already exists (${clash.name}); choose another Name.`,
      '--role-definition',
    );
  }
  const { roleName, description, assignableScopes, ...permission } = input;
  const created = await client.put<ArmRoleDefinition>(
    `${roleDefinitionsPath(scope)}/${randomUUID()}`,
    {
      properties: {
        roleName,
        description,
        type: 'CustomRole',
        permissions: [permission],
        assignableScopes,
      },
    },
    { query: QUERY },
  );
  context.print(flattenDefinition(created), options.output, DEFINITION_COLUMNS);
}

async function createAssignment(options: AssignmentOptions, context: ActionContext): Promise<void> {
  if (options.scope === undefined && options.resourceGroup === undefined) {
    throw usageError(
      'pass --scope (or --resource-group) to say where the role applies.',
      '--scope',
    );
  }
  const session = await context.session(options.subscription);
  const scope = scopeOf(options, session.subscriptionId);
  const principal = await assigneeOf(session.client, options);
  if (principal === undefined)
    throw usageError('pass --assignee (or --assignee-object-id).', '--assignee');
  const definition = await findRoleDefinition(session.client, options.role ?? '', scope);
  const created = await assignRole(session.client, {
    scope,
    roleDefinitionId: definition.id,
    principalId: principal.id,
    principalType: principal.type,
  });
  const flat = flattenAssignment(created, {
    role: definition.properties.roleName,
    principal: principal.displayName,
  });
  context.print(flat, options.output, ASSIGNMENT_COLUMNS);
}

async function listAssignments(
  options: AssignmentOptions & { includeInherited?: boolean; all?: boolean },
  context: ActionContext,
): Promise<void> {
  const session = await context.session(options.subscription);
  const scope = scopeOf(options, session.subscriptionId);
  const principal = await assigneeOf(session.client, options);
  const role =
    options.role === undefined
      ? undefined
      : await findRoleDefinition(session.client, options.role, scope);
  const match: ScopeMatch =
    options.all === true ? 'all' : options.includeInherited === true ? 'inherited' : 'exact';
  const found = await findAssignments(session.client, {
    scope,
    match,
    ...(principal === undefined ? {} : { principalId: principal.id }),
    ...(role === undefined ? {} : { roleGuid: role.name }),
  });
  context.print(await describe(session.client, scope, found), options.output, ASSIGNMENT_COLUMNS);
}

async function deleteAssignments(
  options: AssignmentOptions & { ids?: string[] },
  context: ActionContext,
): Promise<void> {
  const filtered =
    options.assignee ??
    options.assigneeObjectId ??
    options.role ??
    options.scope ??
    options.resourceGroup;
  if (options.ids !== undefined && filtered !== undefined) {
    throw usageError('pass either --ids or --assignee/--role/--scope, not both.', '--ids');
  }
  if (
    options.ids === undefined &&
    options.assignee === undefined &&
    options.assigneeObjectId === undefined &&
    options.role === undefined
  ) {
    throw usageError(
      'say which assignments to delete: --ids, or --assignee and/or --role (with --scope to limit where).',
      '--assignee',
    );
  }
  const ids = (options.ids ?? []).map(assignmentId);
  const session = await context.session(options.subscription);
  if (ids.length === 0) {
    const scoped = options.scope !== undefined || options.resourceGroup !== undefined;
    const scope = scopeOf(options, session.subscriptionId);
    const principal = await assigneeOf(session.client, options);
    const role =
      options.role === undefined
        ? undefined
        : await findRoleDefinition(session.client, options.role, scope);
    const found = await findAssignments(session.client, {
      scope,
      match: scoped ? 'exact' : 'subtree',
      ...(principal === undefined ? {} : { principalId: principal.id }),
      ...(role === undefined ? {} : { roleGuid: role.name }),
    });
    ids.push(...found.map((a) => a.id));
  }
  if (ids.length === 0) context.warn('No matched assignments were found to delete.');
  for (const id of ids) await session.client.delete(id, { query: QUERY });
}

/** Adds the role and principal names `az role assignment list` shows. */
async function describe(
  client: ApiClient,
  scope: string,
  found: ArmRoleAssignment[],
): Promise<FlatRoleAssignment[]> {
  if (found.length === 0) return [];
  // Names are a convenience: a caller who may list assignments but not roles still sees them.
  const definitions = await client
    .list<ArmRoleDefinition>(roleDefinitionsPath(scope), QUERY)
    .catch(() => [] as ArmRoleDefinition[]);
  const roles = new Map(definitions.map((d) => [d.name.toLowerCase(), d.properties.roleName]));
  const principalIds = [...new Set(found.map((a) => a.properties.principalId))].slice(0, 50);
  const names = new Map<string, string>();
  await Promise.all(
    principalIds.map(async (id) => {
      const type = found.find((a) => a.properties.principalId === id)?.properties.principalType;
      const name = await principalName(client, id, type).catch(() => undefined);
      if (name !== undefined) names.set(id, name);
    }),
  );
  return found.map((a) =>
    flattenAssignment(a, {
      ...withValue('role', roles.get(roleGuidOf(a.properties.roleDefinitionId))),
      ...withValue('principal', names.get(a.properties.principalId)),
    }),
  );
}

async function principalName(
  client: ApiClient,
  id: string,
  type: PrincipalType | undefined,
): Promise<string | undefined> {
  const path = encodeURIComponent(id);
  switch (type) {
    case 'ServicePrincipal':
      return (await client.find<{ appId: string }>(`/v1.0/servicePrincipals/${path}`))?.appId;
    case 'User':
      return (await client.find<{ userPrincipalName: string }>(`/v1.0/users/${path}`))
        ?.userPrincipalName;
    case 'Group':
      return (await client.find<{ displayName: string }>(`/v1.0/groups/${path}`))?.displayName;
    case undefined:
      return undefined;
  }
}

async function assigneeOf(
  client: ApiClient,
  options: AssigneeOptions,
): Promise<ResolvedPrincipal | undefined> {
  if (options.assignee !== undefined && options.assigneeObjectId !== undefined) {
    throw usageError('pass either --assignee or --assignee-object-id, not both.', '--assignee');
  }
  if (options.assigneeObjectId === undefined) {
    if (options.assigneePrincipalType !== undefined) {
      throw usageError(
        '--assignee-principal-type goes with --assignee-object-id.',
        '--assignee-principal-type',
      );
    }
    return options.assignee === undefined ? undefined : findPrincipal(client, options.assignee);
  }
  if (options.assigneePrincipalType !== undefined) {
    return {
      id: options.assigneeObjectId,
      type: options.assigneePrincipalType,
      displayName: options.assigneeObjectId,
    };
  }
  return findPrincipal(client, options.assigneeObjectId, '--assignee-object-id');
}

function scopeOf(options: ScopeOptions, subscriptionId: () => string): string {
  if (options.scope !== undefined && options.resourceGroup !== undefined) {
    throw usageError('pass either --scope or --resource-group, not both.', '--scope');
  }
  if (options.scope !== undefined) return options.scope;
  if (options.resourceGroup !== undefined)
    return resourceGroupScope(subscriptionId(), options.resourceGroup);
  return subscriptionScope(subscriptionId());
}

function assignmentId(id: string): string {
  const match = /^(.*)\/providers\/Microsoft\.Authorization\/roleAssignments\/([^/]+)$/i.exec(
    id.trim(),
  );
  const guid = match?.[2] ?? '';
  if (match === null || !/^[0-9a-f-]{36}$/i.test(guid)) {
    throw usageError(
      `--ids '${id}' is not a role assignment id: expected {scope}/providers/Microsoft.Authorization/roleAssignments/{GUID}.`,
      '--ids',
    );
  }
  const scope = match[1] === '' ? '/' : parseScope(match[1] ?? '', '--ids');
  return `${scope === '/' ? '' : scope}/providers/Microsoft.Authorization/roleAssignments/${guid}`;
}

function flattenDefinition(definition: ArmRoleDefinition): FlatRoleDefinition {
  const { properties, ...resource } = definition;
  const { type: roleType, ...rest } = properties;
  return {
    ...rest,
    id: resource.id,
    name: resource.name,
    type: resource.type ?? 'Microsoft.Authorization/roleDefinitions',
    ...withValue('roleType', roleType),
  };
}

function withValue<K extends string>(
  key: K,
  value: string | undefined,
): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

function withScope(command: Command, output = true): Command {
  command
    .option(
      '--scope <scope>',
      'scope such as /subscriptions/{id}/resourceGroups/{name}',
      parseScopeArgument,
    )
    .option('-g, --resource-group <name>', 'the resource group as scope', parseResourceGroupName)
    .addOption(subscriptionOption());
  return output ? command.addOption(outputOption()) : command;
}

function withAssignee(command: Command): Command {
  return command
    .option('--assignee <principal>', 'appId, object id or user principal name')
    .option('--assignee-object-id <id>', 'object id, when the directory cannot be read', parseGuid)
    .addOption(
      new Option('--assignee-principal-type <type>', 'type of --assignee-object-id').choices([
        'User',
        'Group',
        'ServicePrincipal',
      ]),
    );
}
