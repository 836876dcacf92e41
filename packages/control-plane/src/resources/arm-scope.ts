// ARM scopes as the API meets them: parsed from a path into one canonical (lower-case)
// spelling, and checked to exist, so that nothing is granted or created under a ghost.
import type { Kysely } from 'kysely';
import { ArmError } from '../api/arm-error.js';
import { RbacError } from '../rbac/rbac-error.js';
import { normalizeScope } from '../rbac/scope.js';
import type { Database, ResourceGroupsTable } from '../store/schema.js';
import {
  checkMachineName,
  checkResourceGroupName,
  checkSubscriptionId,
  isGuid,
} from './arm-names.js';

export const MACHINE_TYPE = 'microsoft.hybridcompute/machines';

export type ScopeKind = 'root' | 'subscription' | 'resourceGroup' | 'resource';

export interface ParsedScope {
  /** Normalized: lower case, '/' for the tenant root. */
  scope: string;
  kind: ScopeKind;
  subscriptionId: string | undefined;
  /** Lower-cased resource group name. */
  resourceGroup: string | undefined;
  /** `provider/type/name[/childType/childName…]` below the resource group, lower-cased. */
  resourcePath: string | undefined;
}

export function subscriptionScope(subscriptionId: string): string {
  return `/subscriptions/${subscriptionId.toLowerCase()}`;
}

export function resourceGroupScope(subscriptionId: string, resourceGroup: string): string {
  return `${subscriptionScope(subscriptionId)}/resourcegroups/${resourceGroup.toLowerCase()}`;
}

export function machineScope(subscriptionId: string, resourceGroup: string, name: string): string {
  return `${resourceGroupScope(subscriptionId, resourceGroup)}/providers/${MACHINE_TYPE}/${name.toLowerCase()}`;
}

/** Parses any scope string; InvalidScope names what is wrong with it. */
/** The machine's scope when each path segment is a valid name; undefined when one is not. */
export function validMachineScope(
  subscriptionId: string,
  resourceGroup: string,
  name: string,
): string | undefined {
  try {
    return machineScope(
      checkSubscriptionId(subscriptionId),
      checkResourceGroupName(resourceGroup),
      checkMachineName(name),
    );
  } catch {
    return undefined;
  }
}

export function parseScope(raw: string): ParsedScope {
  let scope: string;
  try {
    scope = normalizeScope(raw);
  } catch (error) {
    if (error instanceof RbacError)
      throw new ArmError('InvalidScope', error.message, { target: 'scope', cause: error });
    throw error;
  }
  if (scope === '/')
    return {
      scope,
      kind: 'root',
      subscriptionId: undefined,
      resourceGroup: undefined,
      resourcePath: undefined,
    };
  const segments = scope.split('/').slice(1);
  if (segments[0] !== 'subscriptions')
    throw invalidScope(raw, 'only the tenant root "/" and scopes under /subscriptions/ exist here');
  const subscriptionId = segments[1] ?? '';
  if (!isGuid(subscriptionId))
    throw invalidScope(raw, `the subscription id '${subscriptionId}' is not a GUID`);
  if (segments.length === 2)
    return {
      scope,
      kind: 'subscription',
      subscriptionId,
      resourceGroup: undefined,
      resourcePath: undefined,
    };
  if (segments[2] !== 'resourcegroups')
    throw invalidScope(raw, 'below a subscription only resourceGroups/{name} is a scope');
  const resourceGroup = segments[3];
  if (segments.length === 4)
    return { scope, kind: 'resourceGroup', subscriptionId, resourceGroup, resourcePath: undefined };
  // providers/{namespace}/{type}/{name}[/{childType}/{childName}…]
  if (segments[4] !== 'providers' || segments.length < 8) {
    throw invalidScope(
      raw,
      'a resource scope is …/resourceGroups/{rg}/providers/{namespace}/{type}/{name}',
    );
  }
  return {
    scope,
    kind: 'resource',
    subscriptionId,
    resourceGroup,
    resourcePath: segments.slice(5).join('/'),
  };
}

function invalidScope(raw: string, why: string): ArmError {
  return new ArmError('InvalidScope', `The scope '${raw.slice(0, 200)}' is not valid: ${why}.`, {
    target: 'scope',
  });
}

export interface ScopeCheckOptions {
  /**
   * Whether a resource scope must be a resource Tether keeps (a machine). Reads tolerate
   * other resource types below an existing resource group; grants do not.
   */
  resourceMustBeKnown: boolean;
}

/** Throws SubscriptionNotFound, ResourceGroupNotFound or ResourceNotFound for a ghost scope. */
export async function requireScopeExists(
  db: Kysely<Database>,
  parsed: ParsedScope,
  options: ScopeCheckOptions = { resourceMustBeKnown: true },
): Promise<void> {
  const { subscriptionId, resourceGroup, resourcePath } = parsed;
  if (subscriptionId === undefined) return;
  await requireSubscription(db, subscriptionId);
  if (resourceGroup === undefined) return;
  await requireResourceGroup(db, subscriptionId, resourceGroup);
  if (resourcePath === undefined) return;
  const parts = resourcePath.split('/');
  const isMachine = `${parts[0] ?? ''}/${parts[1] ?? ''}` === MACHINE_TYPE;
  if (isMachine) {
    const id = machineScope(subscriptionId, resourceGroup, parts[2] ?? '');
    const row = await db
      .selectFrom('machines')
      .select('id')
      .where('id', '=', id)
      .executeTakeFirst();
    if (row === undefined)
      throw resourceNotFound(`Microsoft.HybridCompute/machines/${parts[2] ?? ''}`, resourceGroup);
    if (parts.length === 3) return;
  }
  if (options.resourceMustBeKnown) {
    throw new ArmError(
      'InvalidScope',
      `The scope '${parsed.scope}' is not supported: Tether grants access at the tenant root, a subscription, a resource group or a machine.`,
      { target: 'scope' },
    );
  }
}

export async function requireSubscription(
  db: Kysely<Database>,
  subscriptionId: string,
): Promise<void> {
  const row = await db
    .selectFrom('subscriptions')
    .select('subscription_id')
    .where('subscription_id', '=', subscriptionId.toLowerCase())
    .executeTakeFirst();
  if (row === undefined) {
    throw new ArmError(
      'SubscriptionNotFound',
      `The subscription '${subscriptionId}' could not be found.`,
      {
        target: 'subscriptionId',
      },
    );
  }
}

/** The resource group's row; checks the subscription first so the error names what is missing. */
export async function requireResourceGroup(
  db: Kysely<Database>,
  subscriptionId: string,
  resourceGroup: string,
): Promise<ResourceGroupsTable> {
  const row = await db
    .selectFrom('resource_groups')
    .selectAll()
    .where('id', '=', resourceGroupScope(subscriptionId, resourceGroup))
    .executeTakeFirst();
  if (row !== undefined) return row;
  await requireSubscription(db, subscriptionId);
  throw new ArmError(
    'ResourceGroupNotFound',
    `Resource group '${resourceGroup}' could not be found.`,
    {
      target: 'resourceGroupName',
    },
  );
}

export function resourceNotFound(typeAndName: string, resourceGroup: string): ArmError {
  return new ArmError(
    'ResourceNotFound',
    `The Resource '${typeAndName}' under resource group '${resourceGroup}' was not found.`,
  );
}
