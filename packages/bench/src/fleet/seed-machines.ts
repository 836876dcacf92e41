// The fleet simulator's fast seeding: machines written straight into the database of an
// installation whose servers are stopped, through the same store functions a machine PUT uses
// (insertMachineRow, createMachineIdentity), so that each gets exactly the rows onboarding makes
// — the machine, its service principal, its public-key credential, its agent row and its
// Tether Connected Machine role assignment — in transactions of a few hundred machines rather
// than one HTTPS request each. The servers load role assignments when they start, so they must
// be stopped while it runs (and a SQLite file is open to one process only).
import { generateKeyPairSync } from 'node:crypto';
import { parseClientPublicKey } from '@tether/control-plane/machines/client-public-key';
import {
  createMachineIdentity,
  insertMachineRow,
} from '@tether/control-plane/machines/machine-identity-store';
import { DEFAULT_MACHINE_TIMINGS } from '@tether/control-plane/machines/machine-timings';
import { machineScope, resourceGroupScope } from '@tether/control-plane/resources/arm-scope';
import { openDatabase, type DatabaseLocation } from '@tether/control-plane/store/open-database';
import { inParallel } from '../machine-fleet.js';
import type { SimulatedMachine } from './fleet-protocol.js';

const MACHINES_PER_TRANSACTION = 250;
/** Transactions at once: each waits on its round trips to PostgreSQL more than on the CPU. */
const TRANSACTIONS_IN_PARALLEL = 4;

export interface SeedOptions {
  readonly database: DatabaseLocation;
  /** `/subscriptions/{id}/resourceGroups/{name}`, which must exist. */
  readonly group: string;
  readonly count: number;
  /** Machine names are `<prefix><i>`. */
  readonly prefix?: string;
  /** The properties a simulated agent's PUT would carry besides its key. */
  readonly properties?: Readonly<Record<string, unknown>>;
}

/** Seeds `count` machines as onboarding would; returns them as the simulator needs them. */
export async function seedSimulatedMachines(options: SeedOptions): Promise<SimulatedMachine[]> {
  const match = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)$/i.exec(options.group);
  if (match === null) {
    throw new Error(
      `${JSON.stringify(options.group)} is not a resource group path (/subscriptions/{id}/resourceGroups/{name})`,
    );
  }
  const [, subscriptionId = '', groupName = ''] = match;
  const db = await openDatabase(options.database);
  try {
    const group = await db
      .selectFrom('resource_groups')
      .select(['name', 'location'])
      .where('id', '=', resourceGroupScope(subscriptionId, groupName))
      .executeTakeFirst();
    if (group === undefined) throw new Error(`no resource group ${options.group} to seed into`);
    const batches = Math.ceil(options.count / MACHINES_PER_TRANSACTION);
    // SQLite has one connection: its transactions run one after another whatever is asked.
    const parallel = options.database.kind === 'postgres' ? TRANSACTIONS_IN_PARALLEL : 1;
    const seededBatches = await inParallel(
      batches,
      async (b) => {
        const start = b * MACHINES_PER_TRANSACTION;
        const end = Math.min(options.count, start + MACHINES_PER_TRANSACTION);
        return db.transaction().execute(async (trx) => {
          const seeded: SimulatedMachine[] = [];
          for (let i = start; i < end; i++) {
            const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
            const key = parseClientPublicKey(
              publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
            );
            const name = `${options.prefix ?? 'sim-'}${i}`;
            // Stored under the normalized scope, as the PUT stores it; addressed by the path.
            const id = machineScope(subscriptionId, group.name, name);
            const path = `${options.group}/providers/Microsoft.HybridCompute/machines/${name}`;
            const now = Date.now();
            const inserted = await insertMachineRow(
              trx,
              {
                id,
                subscriptionId,
                resourceGroup: group.name,
                name,
                location: group.location,
                tags: {},
                properties: { clientPublicKey: key.base64, ...options.properties },
              },
              new Date(now).toISOString(),
            );
            if (!inserted) throw new Error(`machine ${id} exists already`);
            const identity = await createMachineIdentity(
              trx,
              { id, name },
              key,
              now,
              DEFAULT_MACHINE_TIMINGS,
            );
            seeded.push({
              name,
              path,
              principalId: identity.principalId,
              kid: key.keyId,
              keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
            });
          }
          return seeded;
        });
      },
      parallel,
    );
    return seededBatches.flat();
  } finally {
    await db.destroy();
  }
}
