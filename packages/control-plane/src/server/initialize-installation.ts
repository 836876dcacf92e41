// What `tether init` writes, in one transaction: the tenant, a default subscription and the
// bootstrap service principal with a one-year secret and Owner at the tenant root.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { TetherError } from '@tether/protocol';
import type { Clock } from '../clock.js';
import {
  DEFAULT_PASSWORD_LIFETIME_MS,
  newPasswordCredential,
} from '../directory/credential-factory.js';
import { DirectoryStore } from '../directory/directory-store.js';
import { OWNER_ROLE_ID } from '../rbac/built-in-roles.js';
import type { Database } from '../store/schema.js';
import { readSetting, SETTING_KEYS, writeSetting } from '../store/settings.js';

export const BOOTSTRAP_PRINCIPAL_NAME = 'tether-bootstrap';
export const DEFAULT_SUBSCRIPTION_NAME = 'Default';

export interface Installation {
  tenantId: string;
  subscriptionId: string;
  /** Object id of the bootstrap service principal. */
  principalId: string;
  /** Its application (client) id, to sign in with. */
  appId: string;
  /** Its secret: shown once, stored only as a hash. */
  password: string;
}

export class InitializationError extends TetherError<'ERR_ALREADY_INITIALIZED'> {}

export async function initializeInstallation(
  db: Kysely<Database>,
  clock: Clock,
): Promise<Installation> {
  const now = clock.now();
  const stamp = new Date(now).toISOString();
  const tenantId = randomUUID();
  const subscriptionId = randomUUID();
  const principalId = randomUUID();
  const appId = randomUUID();
  const { row: credential, secretText } = await newPasswordCredential(
    principalId,
    BOOTSTRAP_PRINCIPAL_NAME,
    now + DEFAULT_PASSWORD_LIFETIME_MS,
    now,
  );
  await db.transaction().execute(async (trx) => {
    const existing = await readSetting(trx, SETTING_KEYS.tenantId);
    if (existing !== undefined) {
      throw new InitializationError(
        'ERR_ALREADY_INITIALIZED',
        `the database is already initialized (tenant ${existing}); nothing was changed. Use another --data-dir or --database-url for a new installation.`,
      );
    }
    await writeSetting(trx, SETTING_KEYS.tenantId, tenantId);
    await writeSetting(trx, SETTING_KEYS.initializedAt, stamp);
    await trx
      .insertInto('subscriptions')
      .values({
        subscription_id: subscriptionId,
        display_name: DEFAULT_SUBSCRIPTION_NAME,
        state: 'Enabled',
        created_at: stamp,
      })
      .execute();
    const directory = new DirectoryStore(trx, clock);
    await directory.insertPrincipal(
      { id: principalId, type: 'ServicePrincipal', displayName: BOOTSTRAP_PRINCIPAL_NAME, appId },
      trx,
    );
    await directory.insertCredential(credential, trx);
    await trx
      .insertInto('role_assignments')
      .values({
        name: randomUUID(),
        scope: '/',
        role_definition_name: OWNER_ROLE_ID,
        principal_id: principalId,
        principal_type: 'ServicePrincipal',
        created_at: stamp,
        created_by: 'tether init',
      })
      .execute();
  });
  return { tenantId, subscriptionId, principalId, appId, password: secretText };
}
