// `enableAutomaticUpgrade` (Arc's automatic extension upgrade): when a publisher publishes a newer
// version within an extension's major version, every extension of that Publisher/Type asking for
// it gets an `upgrade` operation, as if an operator had called upgradeExtensions. The server's
// local policy still decides on the machine; an extension busy with another operation is left
// for the next publish or an operator's upgradeExtensions.
import { sql } from 'kysely';
import type { PackageIdentity } from '@tether/protocol/extension-package';
import { applyChanges } from './extension-changes.js';
import type { ExtensionServices } from './extension-target.js';
import { operationInProgress } from './extension-store.js';
import { compareVersions, parseVersion } from './extension-versions.js';

/** Who the activity log and the operation name as the requester of an automatic upgrade. */
export const AUTOMATIC_UPGRADE_CALLER = 'automatic extension upgrade';

/** Starts the upgrades `published` makes due; returns the ids of the extensions it upgrades. */
export async function upgradeAutomatically(
  services: ExtensionServices,
  published: PackageIdentity,
): Promise<string[]> {
  const { db, clock, waiters } = services;
  const newer = parseVersion(published.version);
  if (newer === undefined) return [];
  const candidates = await db
    .selectFrom('machine_extensions')
    .selectAll()
    .where('enable_automatic_upgrade', '=', 1)
    .where(sql<string>`lower(publisher)`, '=', published.publisher.toLowerCase())
    .where(sql<string>`lower(type)`, '=', published.type.toLowerCase())
    .execute();
  const upgraded: string[] = [];
  for (const extension of candidates) {
    const current = parseVersion(extension.resolved_version);
    const due =
      current !== undefined && newer[0] === current[0] && compareVersions(newer, current) > 0;
    if (!due || (await operationInProgress(db, extension.id)) !== undefined) continue;
    const machine = await db
      .selectFrom('machines')
      .select(['subscription_id'])
      .where('id', '=', extension.machine_id)
      .executeTakeFirst();
    if (machine === undefined) continue;
    const now = clock.now();
    try {
      await applyChanges(
        db,
        {
          subscriptionId: machine.subscription_id,
          machineId: extension.machine_id,
          now,
          timeoutMs: services.requestTimeoutMs,
          createdBy: AUTOMATIC_UPGRADE_CALLER,
        },
        [
          {
            row: {
              ...extension,
              resolved_version: published.version,
              sequence: Number(extension.sequence) + 1,
              provisioning_state: 'Updating',
              updated_at: new Date(now).toISOString(),
            },
            previousSequence: Number(extension.sequence),
            kind: 'upgrade',
          },
        ],
      );
    } catch {
      // An operator's request got there first (409): theirs stands; this one is not due then.
      continue;
    }
    waiters.wake(extension.machine_id);
    upgraded.push(extension.id);
  }
  return upgraded;
}
