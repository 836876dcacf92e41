// The store compliance suite: the same behaviour, asserted against every backend the control
// plane can run on (SQLite always; PostgreSQL when TETHER_TEST_POSTGRES_URL is set).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { isTetherError } from '@tether/protocol';
import { ManualClock } from '../clock.js';
import {
  createKeyEncryptionKeyFile,
  KeyEncryptionKeys,
  type KeyEncryptionKey,
} from '../identity/key-encryption-keys.js';
import { SigningKeyRing } from '../identity/signing-key-ring.js';
import {
  openPrivateJwk,
  prepareSigningKeyStorage,
  rewrapSigningKeys,
} from '../identity/signing-key-wrapping.js';
import { readSetting, SETTING_KEYS } from './settings.js';
import { openDatabase } from './open-database.js';
import { statementBatchesOf } from './statement-batch.js';
import { writeGenerationOf } from './write-generation.js';
import { testBackends, type TestDatabase } from './testing/test-databases.js';

const T0 = '2026-01-01T00:00:00.000Z';

/** The start-up error of a node not holding key-encryption key `id`. */
function missingKek(id: string): (error: unknown) => boolean {
  return (error: unknown) =>
    isTetherError(error) &&
    error.code === 'ERR_KEY_ENCRYPTION_KEY' &&
    error.message.includes(`key-encryption key ${id}`);
}

for (const backend of testBackends()) {
  void describe(`store compliance: ${backend.name}`, () => {
    let store: TestDatabase;
    before(async () => {
      store = await backend.open();
    });
    after(async () => {
      await store.dispose();
    });

    void it('keeps committed rows, unchanged, across a reopen', async () => {
      await store.db
        .insertInto('principals')
        .values({
          id: 'p-reopen',
          type: 'Group',
          display_name: 'Ops — équipe 運用',
          app_id: null,
          user_principal_name: null,
          machine_id: null,
          reply_urls: null,
          description: 'line one\nline "two"',
          created_at: T0,
        })
        .execute();
      const db = await store.reopen();
      const row = await db
        .selectFrom('principals')
        .selectAll()
        .where('id', '=', 'p-reopen')
        .executeTakeFirstOrThrow();
      assert.deepEqual(row, {
        id: 'p-reopen',
        type: 'Group',
        display_name: 'Ops — équipe 運用',
        app_id: null,
        user_principal_name: null,
        machine_id: null,
        reply_urls: null,
        description: 'line one\nline "two"',
        created_at: T0,
      });
    });

    void it('runs every migration exactly once', async () => {
      const names = await sql<{ name: string }>`select name from kysely_migration order by name`
        .execute(store.db)
        .then((r) => r.rows.map((row) => row.name));
      assert.deepEqual(names, [
        '0001_core',
        '0002_identity',
        '0003_machine_agents',
        '0004_extensions',
        '0005_extension_operations_by_machine',
        '0007_guest_configuration',
        '0008_policy',
        '0009_compliance_at_scale',
        '0010_local_changes',
        '0011_sign_in',
        '0012_policy_states_stored',
        '0013_policy_match_requests',
        '0014_signing_key_encryption',
        '0015_local_change_journal_id',
        '0016_machine_agents_last_heartbeat',
        '0017_agent_packages',
        '0018_sign_in_failures',
        '0019_machine_agents_without_last_heartbeat_index',
        '0020_agent_package_signatures',
        '0021_liveness_log',
      ]);
    });

    void it('refuses a second service principal with the same appId', async () => {
      const sp = (id: string) => ({
        id,
        type: 'ServicePrincipal' as const,
        display_name: id,
        app_id: 'app-unique',
        user_principal_name: null,
        machine_id: null,
        reply_urls: null,
        created_at: T0,
      });
      await store.db.insertInto('principals').values(sp('sp-1')).execute();
      await assert.rejects(store.db.insertInto('principals').values(sp('sp-2')).execute());
      const count = await store.db
        .selectFrom('principals')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('app_id', '=', 'app-unique')
        .executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 1);
    });

    void it('makes a client assertion single-use through its primary key', async () => {
      const row = { app_id: 'app', audience: 'aud', jti: 'jti-1', expires_at: T0 };
      await store.db.insertInto('client_assertions').values(row).execute();
      await assert.rejects(store.db.insertInto('client_assertions').values(row).execute());
      await store.db
        .insertInto('client_assertions')
        .values({ ...row, app_id: 'other-app' })
        .execute();
    });

    void it('refuses a duplicate role assignment (same scope, role and principal)', async () => {
      const assignment = (name: string) => ({
        name,
        scope: '/subscriptions/s1',
        role_definition_name: 'role',
        principal_id: 'p',
        principal_type: 'User' as const,
        created_at: T0,
        created_by: 'test',
      });
      await store.db.insertInto('role_assignments').values(assignment('a1')).execute();
      await assert.rejects(
        store.db.insertInto('role_assignments').values(assignment('a2')).execute(),
      );
    });

    void it('rolls a failed transaction back whole', async () => {
      await assert.rejects(
        store.db.transaction().execute(async (trx) => {
          await trx
            .insertInto('group_members')
            .values({ group_id: 'g', member_id: 'm1' })
            .execute();
          await trx
            .insertInto('group_members')
            .values({ group_id: 'g', member_id: 'm1' })
            .execute();
        }),
      );
      const rows = await store.db
        .selectFrom('group_members')
        .selectAll()
        .where('group_id', '=', 'g')
        .execute();
      assert.deepEqual(rows, []);
    });

    void it('compares text case-sensitively, so callers must case-fold keys themselves', async () => {
      await store.db.insertInto('settings').values({ key: 'case-key', value: 'v' }).execute();
      const upper = await store.db
        .selectFrom('settings')
        .selectAll()
        .where('key', '=', 'CASE-KEY')
        .execute();
      assert.deepEqual(upper, []);
    });

    void it('orders and ranges ISO timestamps stored as text', async () => {
      const stamps = [
        '2026-03-01T10:00:00.000Z',
        '2026-01-31T23:59:59.999Z',
        '2026-02-15T00:00:00.000Z',
      ];
      for (const [i, stamp] of stamps.entries()) {
        await store.db
          .insertInto('client_assertions')
          .values({ app_id: 'time', audience: 'aud', jti: `j${i}`, expires_at: stamp })
          .execute();
      }
      const inFebruary = await store.db
        .selectFrom('client_assertions')
        .select('expires_at')
        .where('app_id', '=', 'time')
        .where('expires_at', '>=', '2026-02-01T00:00:00.000Z')
        .where('expires_at', '<', '2026-03-01T00:00:00.000Z')
        .execute();
      assert.deepEqual(inFebruary, [{ expires_at: '2026-02-15T00:00:00.000Z' }]);
      const ordered = await store.db
        .selectFrom('client_assertions')
        .select('expires_at')
        .where('app_id', '=', 'time')
        .orderBy('expires_at')
        .execute();
      assert.deepEqual(
        ordered.map((r) => r.expires_at),
        [...stamps].sort(),
      );
    });

    void it('matches LIKE with an explicit escape character the same way', async () => {
      for (const key of ['pre_fix/a', 'prefix/b', 'pre%fix/c']) {
        await store.db.insertInto('settings').values({ key, value: '1' }).execute();
      }
      const rows = await store.db
        .selectFrom('settings')
        .select('key')
        .where(sql<boolean>`key like ${'pre\\_fix/%'} escape '\\'`)
        .execute();
      assert.deepEqual(rows, [{ key: 'pre_fix/a' }]);
    });

    void it('deletes by a list of ids in one statement', async () => {
      await store.db
        .insertInto('group_members')
        .values([
          { group_id: 'gd', member_id: 'a' },
          { group_id: 'gd', member_id: 'b' },
          { group_id: 'gd', member_id: 'c' },
        ])
        .execute();
      const result = await store.db
        .deleteFrom('group_members')
        .where('group_id', '=', 'gd')
        .where('member_id', 'in', ['a', 'c'])
        .executeTakeFirst();
      assert.equal(Number(result.numDeletedRows), 2);
      const left = await store.db
        .selectFrom('group_members')
        .select('member_id')
        .where('group_id', '=', 'gd')
        .execute();
      assert.deepEqual(left, [{ member_id: 'b' }]);
    });

    void it('counts repeated policy match requests, and keeps one asked for again meanwhile', async () => {
      const ask = (scope: string) =>
        store.db
          .insertInto('policy_match_requests')
          .values({ scope, requests: 1 })
          .onConflict((oc) =>
            oc
              .column('scope')
              .doUpdateSet((eb) => ({ requests: eb('policy_match_requests.requests', '+', 1) })),
          )
          .execute();
      const done = (scope: string, requests: number) =>
        store.db
          .deleteFrom('policy_match_requests')
          .where('scope', '=', scope)
          .where('requests', '=', requests)
          .execute();
      await ask('/subscriptions/s1');
      await ask('/subscriptions/s1');
      const seen = await store.db.selectFrom('policy_match_requests').selectAll().execute();
      assert.deepEqual(seen, [{ scope: '/subscriptions/s1', requests: 2 }]);
      // Asked again while the two were being matched: that third request is not lost.
      await ask('/subscriptions/s1');
      await done('/subscriptions/s1', 2);
      assert.equal(
        (await store.db.selectFrom('policy_match_requests').selectAll().execute()).length,
        1,
      );
      await done('/subscriptions/s1', 3);
      assert.deepEqual(
        await store.db.selectFrom('policy_match_requests').selectAll().execute(),
        [],
      );
    });

    void it('runs a statement batch in one transaction, each parameter set with its rows', async () => {
      const batches = statementBatchesOf(store.db);
      const generation = writeGenerationOf(store.db);
      const writesBefore = generation?.current() ?? 0;
      const insert = store.db
        .insertInto('settings')
        .values({ key: '\u0000k', value: '\u0000v' })
        .returning(['key', 'value'])
        .compile();
      assert.deepEqual(insert.parameters, ['\u0000k', '\u0000v']);
      const results = await batches.run(insert, [
        ['batch/a', '1'],
        ['batch/b', '2'],
      ]);
      assert.deepEqual(results, [
        [{ key: 'batch/a', value: '1' }],
        [{ key: 'batch/b', value: '2' }],
      ]);

      const update = store.db
        .updateTable('settings')
        .set({ value: '\u0000v' })
        .where('key', '=', '\u0000k')
        .returning('value')
        .compile();
      const updated = await batches.run(update, [
        ['3', 'batch/a'],
        ['4', 'batch/missing'],
      ]);
      assert.deepEqual(updated, [[{ value: '3' }], []], 'a set that matches nothing has no rows');
      if (generation !== undefined) {
        assert.ok(generation.current() > writesBefore, "a batch moves SQLite's write generation");
      }

      // A set that fails takes the whole batch back: batch/c is not kept.
      await assert.rejects(
        batches.run(insert, [
          ['batch/c', '5'],
          ['batch/a', 'duplicate key'],
        ]),
      );
      const rows = await store.db
        .selectFrom('settings')
        .selectAll()
        .where('key', 'like', 'batch/%')
        .orderBy('key')
        .execute();
      assert.deepEqual(rows, [
        { key: 'batch/a', value: '3' },
        { key: 'batch/b', value: '2' },
      ]);
    });

    void it('keeps a statement batch out of a transaction that is open when it is run', async () => {
      const insert = store.db
        .insertInto('settings')
        .values({ key: '\u0000k', value: 'x' })
        .compile();
      let release = (): void => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      let entered = (): void => {};
      const open = new Promise<void>((resolve) => (entered = resolve));
      const failing = store.db.transaction().execute(async (trx) => {
        await trx.insertInto('settings').values({ key: 'apart/trx', value: 'x' }).execute();
        entered();
        await gate;
        throw new Error('rolled back on purpose');
      });
      await open;
      const batch = statementBatchesOf(store.db).run(insert, [['apart/batch', 'x']]);
      release();
      await assert.rejects(failing, /rolled back on purpose/);
      await batch;
      const keys = await store.db
        .selectFrom('settings')
        .select('key')
        .where('key', 'like', 'apart/%')
        .execute();
      assert.deepEqual(keys, [{ key: 'apart/batch' }]);
    });

    void describe('token signing keys at rest', () => {
      const policy = { tokenLifetimeMs: 3_600_000, clockSkewMs: 300_000 };
      const clock = new ManualClock();
      let keyStore: TestDatabase;
      let dir: string;
      let keks: KeyEncryptionKey[];
      before(async () => {
        keyStore = await backend.open();
        dir = await mkdtemp(join(tmpdir(), 'tether-kek-'));
        keks = [];
        for (const name of ['a', 'b', 'c']) {
          keks.push(await createKeyEncryptionKeyFile(join(dir, `${name}.key`)));
        }
      });
      after(async () => {
        await keyStore.dispose();
        await rm(dir, { recursive: true, force: true });
      });
      const keyAt = (i: number): KeyEncryptionKey => {
        const key = keks[i];
        if (key === undefined) throw new Error(`no key ${i}`);
        return key;
      };
      const [a, b, c] = [() => keyAt(0), () => keyAt(1), () => keyAt(2)];
      const held = (...keys: (() => KeyEncryptionKey)[]) =>
        KeyEncryptionKeys.of(keys.map((k) => k()));
      const rows = () =>
        keyStore.db.selectFrom('signing_keys').selectAll().orderBy('kid').execute();
      const privateParts = async (holding: KeyEncryptionKeys) => {
        const parts: string[] = [];
        for (const row of await rows()) {
          const jwk = await openPrivateJwk(row, holding);
          parts.push(...[jwk.d, jwk.p, jwk.q, jwk.dp, jwk.dq].map(String));
        }
        return parts;
      };
      /** Every byte the backend keeps for the installation that a reader could see. */
      const storedText = async () => {
        const text = JSON.stringify(await rows());
        if (keyStore.location.kind !== 'sqlite') return text;
        // The file itself, free pages and WAL included (the WAL is folded in on reopen).
        await keyStore.reopen();
        const file = keyStore.location.file;
        const wal = await readFile(`${file}-wal`).catch(() => Buffer.alloc(0));
        return text + (await readFile(file)).toString('latin1') + wal.toString('latin1');
      };

      void it('wraps keys made in the clear once a key-encryption key is given, leaving no clear copy', async () => {
        const clear = await SigningKeyRing.open(keyStore.db, clock, policy);
        await clear.rotate();
        const parts = await privateParts(KeyEncryptionKeys.none());
        assert.ok((await storedText()).includes(parts[0] ?? '?'), 'held in the clear at first');

        const storage = await prepareSigningKeyStorage(keyStore.db, held(a));
        assert.deepEqual(storage, { kind: 'wrapped', kekId: a().id, wrappedNow: 2 });
        const ring = await SigningKeyRing.open(keyStore.db, clock, policy, held(a));
        await ring.rotate();
        const all = await privateParts(held(a));
        assert.equal(all.length, 15);
        assert.ok(
          parts.every((part) => all.includes(part)),
          'the keys made in the clear are kept',
        );
        const stored = await storedText();
        for (const part of all) assert.ok(!stored.includes(part), 'no private part is stored');
        assert.deepEqual(
          (await rows()).map((r) => r.kek_id),
          [a().id, a().id, a().id],
        );
      });

      void it('re-wraps every key with a new key-encryption key; nodes holding either one open them', async () => {
        const before = await privateParts(held(a));
        await rewrapSigningKeys(keyStore.db, held(a, b), b());
        assert.deepEqual(new Set((await rows()).map((r) => r.kek_id)), new Set([b().id]));
        assert.deepEqual(await privateParts(held(b)), before);
        const stored = await storedText();
        for (const part of before) assert.ok(!stored.includes(part));

        // A node still holding the old key as well keeps working, and wraps new keys with the new one.
        assert.equal((await prepareSigningKeyStorage(keyStore.db, held(a, b))).kind, 'wrapped');
        const ring = await SigningKeyRing.open(keyStore.db, clock, policy, held(a, b));
        const kid = await ring.rotate();
        const row = (await rows()).find((r) => r.kid === kid);
        assert.equal(row?.kek_id, b().id);
        await assert.rejects(prepareSigningKeyStorage(keyStore.db, held(a)), missingKek(b().id));
      });

      void it('refuses a wrong or missing key-encryption key, changing nothing', async () => {
        const before = await rows();
        await assert.rejects(prepareSigningKeyStorage(keyStore.db, held(c)), missingKek(b().id));
        await assert.rejects(
          prepareSigningKeyStorage(keyStore.db, KeyEncryptionKeys.none()),
          missingKek(b().id),
        );
        await assert.rejects(
          SigningKeyRing.open(keyStore.db, clock, policy, held(c)),
          missingKek(b().id),
        );
        await assert.rejects(rewrapSigningKeys(keyStore.db, held(a, c), c()), missingKek(b().id));
        assert.deepEqual(await rows(), before);
        assert.equal(await readSetting(keyStore.db, SETTING_KEYS.keyEncryptionKeyId), b().id);

        // The right id with other bytes (a file replaced under the same name) does not open either.
        const forged = { ...b(), secret: c().secret };
        await assert.rejects(
          openPrivateJwk(before[0] as (typeof before)[number], KeyEncryptionKeys.of([forged])),
          (error: unknown) => isTetherError(error) && error.code === 'ERR_KEY_ENCRYPTION_KEY',
        );
      });
    });

    if (backend.name === 'sqlite') {
      void it('refuses a second opener of the same SQLite file, naming it', async () => {
        assert.equal(store.location.kind, 'sqlite');
        await assert.rejects(openDatabase(store.location), (error: unknown) => {
          assert.ok(isTetherError(error));
          assert.equal(error.code, 'ERR_STORE_IN_USE');
          assert.match(error.message, /in use by another tether process/);
          return true;
        });
        const still = await store.db.selectFrom('settings').selectAll().execute();
        assert.ok(still.length > 0, 'the first opener keeps working');
      });
    }
  });
}
