// Every resource in a subscription or resource group, whatever its type, in the generic shape
// of `/resources` lists: machines, each followed by its extensions. Pages end at a
// (machine, extension) key, so that paging needs one store ordering only (the machines').
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { EXTENSION_RESOURCE_TYPE } from '../extensions/extension-resource.js';
import { MACHINE_RESOURCE_TYPE, machineId } from './machine-resource.js';
import { resourceGroupScope } from './arm-scope.js';
import type { ResourceExpand } from './resource-list-query.js';

/** One resource of a list, with what filtering, authorization and rendering need. */
export interface GenericResource {
  /** Lower-cased resource id: what authorization is checked at. */
  key: string;
  /** The machine this is (or whose extension this is), lower-cased id. */
  machineKey: string;
  /** '' for the machine itself, else the lower-cased extension name: the order within a machine. */
  childKey: string;
  /** The resource id as its creators spelled the names. */
  id: string;
  /** As ARM lists it: `machine` or `machine/extension`. */
  name: string;
  type: string;
  resourceGroupKey: string;
  location: string;
  tags: Record<string, string>;
  createdTime: string;
  changedTime: string;
  provisioningState: string;
}

export interface ResourceCursor {
  machineKey: string;
  childKey: string;
}

/** Machines read per round while filling a page; filters and authorization may drop many. */
const BATCH = 100;

/**
 * Up to `size` resources after `cursor` that `wanted` keeps, and the cursor of the next page
 * when at least one more would be kept.
 */
export async function listResources(
  db: Kysely<Database>,
  where: { subscriptionId: string; resourceGroup: string | undefined },
  cursor: ResourceCursor | undefined,
  size: number,
  wanted: (resource: GenericResource) => boolean,
): Promise<{ resources: GenericResource[]; next: ResourceCursor | undefined }> {
  const page: GenericResource[] = [];
  let after: { key: string; inclusive: boolean } | undefined =
    cursor === undefined ? undefined : { key: cursor.machineKey, inclusive: true };
  for (;;) {
    const batch = await readBatch(db, where, after);
    for (const resource of batch) {
      const seen =
        cursor !== undefined &&
        resource.machineKey === cursor.machineKey &&
        resource.childKey <= cursor.childKey;
      if (seen || !wanted(resource)) continue;
      const last = page.at(-1);
      if (page.length === size && last !== undefined) {
        return { resources: page, next: { machineKey: last.machineKey, childKey: last.childKey } };
      }
      page.push(resource);
    }
    const lastMachine = batch.at(-1)?.machineKey;
    if (lastMachine === undefined || batch.filter((r) => r.childKey === '').length < BATCH) break;
    after = { key: lastMachine, inclusive: false };
  }
  return { resources: page, next: undefined };
}

async function readBatch(
  db: Kysely<Database>,
  where: { subscriptionId: string; resourceGroup: string | undefined },
  after: { key: string; inclusive: boolean } | undefined,
): Promise<GenericResource[]> {
  let query = db
    .selectFrom('machines')
    .selectAll()
    .where('subscription_id', '=', where.subscriptionId);
  if (where.resourceGroup !== undefined) {
    query = query.where('resource_group', '=', where.resourceGroup.toLowerCase());
  }
  if (after !== undefined) query = query.where('id', after.inclusive ? '>=' : '>', after.key);
  const machines = await query.orderBy('id').limit(BATCH).execute();
  if (machines.length === 0) return [];
  const [extensions, groups] = await Promise.all([
    db
      .selectFrom('machine_extensions')
      .selectAll()
      .where(
        'machine_id',
        'in',
        machines.map((m) => m.id),
      )
      .execute(),
    db
      .selectFrom('resource_groups')
      .select(['id', 'name'])
      .where('id', 'in', [
        ...new Set(machines.map((m) => resourceGroupScope(m.subscription_id, m.resource_group))),
      ])
      .execute(),
  ]);
  const groupName = new Map(groups.map((g) => [g.id, g.name]));
  return machines.flatMap((machine) => {
    const group =
      groupName.get(resourceGroupScope(machine.subscription_id, machine.resource_group)) ??
      machine.resource_group;
    const displayId = machineId(machine.subscription_id, group, machine.name);
    const properties = JSON.parse(machine.properties) as { provisioningState?: unknown };
    const own: GenericResource = {
      key: machine.id,
      machineKey: machine.id,
      childKey: '',
      id: displayId,
      name: machine.name,
      type: MACHINE_RESOURCE_TYPE,
      resourceGroupKey: machine.resource_group,
      location: machine.location,
      tags: JSON.parse(machine.tags) as Record<string, string>,
      createdTime: machine.created_at,
      changedTime: machine.updated_at,
      provisioningState:
        typeof properties.provisioningState === 'string'
          ? properties.provisioningState
          : 'Succeeded',
    };
    const children = extensions
      .filter((e) => e.machine_id === machine.id)
      .map((e): GenericResource => ({
        key: e.id,
        machineKey: machine.id,
        childKey: e.name.toLowerCase(),
        id: `${displayId}/extensions/${e.name}`,
        name: `${machine.name}/${e.name}`,
        type: EXTENSION_RESOURCE_TYPE,
        resourceGroupKey: machine.resource_group,
        location: e.location,
        tags: JSON.parse(e.tags) as Record<string, string>,
        createdTime: e.created_at,
        changedTime: e.updated_at,
        provisioningState: e.provisioning_state,
      }))
      .sort((a, b) => (a.childKey < b.childKey ? -1 : a.childKey > b.childKey ? 1 : 0));
    return [own, ...children];
  });
}

/** The generic list shape: the resource's envelope, and the expanded fields asked for. */
export function renderGenericResource(
  resource: GenericResource,
  expand: ReadonlySet<ResourceExpand>,
): Record<string, unknown> {
  return {
    id: resource.id,
    name: resource.name,
    type: resource.type,
    location: resource.location,
    tags: resource.tags,
    ...(expand.has('createdTime') ? { createdTime: resource.createdTime } : {}),
    ...(expand.has('changedTime') ? { changedTime: resource.changedTime } : {}),
    ...(expand.has('provisioningState') ? { provisioningState: resource.provisioningState } : {}),
  };
}
