// How the signing keys' private halves are stored: wrapped with the installation's current
// key-encryption key, whose id the settings table names, or in the clear on an installation
// never given one. The database decides which key is current, so every node holding it wraps
// alike while a rotation is rolled out.
import type { JWK } from 'jose';
import type { Kysely } from 'kysely';
import type { Database, SigningKeysTable } from '../store/schema.js';
import { readSetting, SETTING_KEYS } from '../store/settings.js';
import { sqliteHandleOf } from '../store/sqlite-handle.js';
import { IdentityError } from './identity-error.js';
import {
  unwrapWithKek,
  wrapWithKek,
  type KeyEncryptionKey,
  type KeyEncryptionKeys,
} from './key-encryption-keys.js';

export type SigningKeyStorage =
  { kind: 'clear' } | { kind: 'wrapped'; kekId: string; wrappedNow: number };

/**
 * Checks the keys a node was given against the database before it serves: the current key
 * must be among them. Given keys on an installation whose signing keys are in the clear, wraps
 * them all with the first, in one transaction.
 */
export async function prepareSigningKeyStorage(
  db: Kysely<Database>,
  keks: KeyEncryptionKeys,
): Promise<SigningKeyStorage> {
  const current = await readSetting(db, SETTING_KEYS.keyEncryptionKeyId);
  const first = keks.keys[0];
  if (current === undefined) {
    if (first === undefined) return { kind: 'clear' };
    const wrappedNow = await rewrapSigningKeys(db, keks, first);
    return { kind: 'wrapped', kekId: first.id, wrappedNow };
  }
  currentKek(current, keks);
  return { kind: 'wrapped', kekId: current, wrappedNow: 0 };
}

/**
 * Wraps every signing key with `target` and makes it the current key, in one transaction:
 * on any failure (a key wrapped with a key not given) nothing changes. Returns how many.
 */
export async function rewrapSigningKeys(
  db: Kysely<Database>,
  keks: KeyEncryptionKeys,
  target: KeyEncryptionKey,
): Promise<number> {
  const count = await rewrapInTransaction(db, keks, target);
  // SQLite keeps the old bytes of rewritten and deleted rows in the free space of its pages:
  // rebuilding the file and folding the WAL back leaves no copy under the old key (or in the
  // clear). PostgreSQL keeps old row versions until vacuumed (see docs/operations.md).
  const sqlite = sqliteHandleOf(db);
  if (sqlite !== undefined) {
    sqlite.exec('VACUUM');
    sqlite.pragma('wal_checkpoint(TRUNCATE)');
  }
  return count;
}

function rewrapInTransaction(
  db: Kysely<Database>,
  keks: KeyEncryptionKeys,
  target: KeyEncryptionKey,
): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const rows = await trx.selectFrom('signing_keys').selectAll().execute();
    for (const row of rows) {
      const jwk = await openPrivateJwk(row, keks);
      await trx
        .updateTable('signing_keys')
        .set({ private_jwk: await wrapWithKek(target, JSON.stringify(jwk)), kek_id: target.id })
        .where('kid', '=', row.kid)
        .execute();
    }
    await trx
      .insertInto('settings')
      .values({ key: SETTING_KEYS.keyEncryptionKeyId, value: target.id })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: target.id }))
      .execute();
    return rows.length;
  });
}

/** The private JWK of a stored key, unwrapped if need be, checked to belong to its row. */
export async function openPrivateJwk(
  row: Pick<SigningKeysTable, 'kid' | 'private_jwk' | 'kek_id'>,
  keks: KeyEncryptionKeys,
): Promise<JWK> {
  let text = row.private_jwk;
  if (row.kek_id !== null) {
    const kek = keks.get(row.kek_id);
    if (kek === undefined) throw missingKek(row.kek_id, keks);
    text = await unwrapWithKek(kek, row.private_jwk);
  }
  const jwk = JSON.parse(text) as JWK;
  if (jwk.kid !== row.kid) {
    throw new IdentityError(
      'ERR_SIGNING_KEY',
      `the stored private key of signing key ${row.kid} names another key (${String(jwk.kid)}): the database was changed`,
    );
  }
  return jwk;
}

/** The stored form of a new private key: wrapped with the current key, read in `trx`. */
export async function sealPrivateJwk(
  trx: Kysely<Database>,
  keks: KeyEncryptionKeys,
  jwk: JWK,
): Promise<Pick<SigningKeysTable, 'private_jwk' | 'kek_id'>> {
  const current = await readSetting(trx, SETTING_KEYS.keyEncryptionKeyId);
  if (current === undefined) return { private_jwk: JSON.stringify(jwk), kek_id: null };
  const kek = currentKek(current, keks);
  return { private_jwk: await wrapWithKek(kek, JSON.stringify(jwk)), kek_id: kek.id };
}

function currentKek(current: string, keks: KeyEncryptionKeys): KeyEncryptionKey {
  const kek = keks.get(current);
  if (kek === undefined) throw missingKek(current, keks);
  return kek;
}

function missingKek(id: string, keks: KeyEncryptionKeys): IdentityError {
  return new IdentityError(
    'ERR_KEY_ENCRYPTION_KEY',
    keks.isEmpty
      ? `the token signing keys are encrypted with key-encryption key ${id}: give its file with --key-encryption-key-file`
      : `the token signing keys are encrypted with key-encryption key ${id}, which none of the given files holds (given: ${keks.describe()}): give that key's file with --key-encryption-key-file`,
  );
}
