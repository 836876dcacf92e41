// B7 and B10 as an operator notices them: a request the machine never takes up fails after
// six hours saying when the machine was last seen, and protected settings never appear in
// clear in any answer or in the database file.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openProtectedSettings } from '@tether/protocol/protected-settings';
import { sweepOverdueExtensionOperations } from './extension-expiry-sweep.js';
import { CUSTOM_SCRIPT, ExtensionTestWorld, V } from './testing/extension-test-world.js';

const HOUR = 3_600_000;

void describe('extension request expiry and protected settings', () => {
  let w: ExtensionTestWorld;
  before(async () => {
    w = await ExtensionTestWorld.create();
    await w.publish(CUSTOM_SCRIPT.publisher, CUSTOM_SCRIPT.type, '2.1.0');
  });
  after(() => w.close());

  void it('fails an operation not completed in 6 hours with MachineNotReached, lazily', async () => {
    const created = await w.put('Late', CUSTOM_SCRIPT, w.admin, 'web-02');
    const status = ExtensionTestWorld.operationPath(created);
    w.t.clock.advance(6 * HOUR - 1000);
    assert.equal((await w.call('GET', status, { as: w.admin })).body['status'], 'InProgress');
    w.t.clock.advance(1000);
    const failed = await w.call('GET', status, { as: w.admin });
    assert.equal(failed.body['status'], 'Failed');
    const error = failed.body['error'] as { code: string; message: string };
    assert.equal(error.code, 'MachineNotReached');
    assert.match(error.message, /within 6 hours .*the machine has never connected/);
    const shown = await w.call('GET', `${w.extension('Late', 'web-02')}?${V}`, { as: w.admin });
    assert.equal(
      (shown.body['properties'] as { provisioningState: string }).provisioningState,
      'Failed',
    );
    const retry = await w.put('Late', CUSTOM_SCRIPT, w.admin, 'web-02');
    assert.equal(retry.status, 200, 'a failed extension can be tried again');
  });

  void it('sweeps overdue operations and says when the machine was last seen', async () => {
    const heartbeat = new Date(w.t.clock.now()).toISOString();
    const principal = await w.t.addPrincipal();
    await w.t.db
      .insertInto('machine_agents')
      .values({
        machine_id: w.machine().toLowerCase(),
        principal_id: principal,
        credential_expires_at: new Date(w.t.clock.now() + 90 * 24 * HOUR).toISOString(),
        revoked_at: null,
        rotation_requested: 0,
        last_heartbeat_at: heartbeat,
        connected_since: heartbeat,
        report: null,
        onboarded_at: heartbeat,
      })
      .execute();
    const created = await w.put('Swept', CUSTOM_SCRIPT);
    w.t.clock.advance(6 * HOUR);
    // 'Swept' and the retried 'Late' of the test before, both six hours old now.
    assert.equal(await sweepOverdueExtensionOperations(w.t.db, w.t.clock), 2);
    assert.equal(await sweepOverdueExtensionOperations(w.t.db, w.t.clock), 0);
    const row = await w.t.db
      .selectFrom('extension_operations')
      .select(['status', 'error'])
      .where(
        'id',
        '=',
        new URL(String(created.headers['azure-asyncoperation'])).pathname.split('/').pop() ?? '',
      )
      .executeTakeFirstOrThrow();
    assert.equal(row.status, 'Failed');
    assert.match(row.error ?? '', new RegExp(`last seen at ${heartbeat}`));
  });

  void it('never holds or answers protected settings in clear', async () => {
    const secret = 'pa55-w0rd-never-in-clear-7f3c';
    const responses: string[] = [];
    const keep = <T extends { body: unknown; headers: unknown }>(answer: T): T => {
      responses.push(JSON.stringify(answer.body), JSON.stringify(answer.headers));
      return answer;
    };
    const created = keep(
      await w.put('Secret', {
        ...CUSTOM_SCRIPT,
        settings: { visible: 1 },
        protectedSettings: { password: secret },
      }),
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(JSON.stringify(created.body).includes('protectedSettings'), false);
    keep(await w.call('GET', `${w.extension('Secret')}?${V}`, { as: w.admin }));
    keep(await w.call('GET', `${w.machine()}/extensions?${V}`, { as: w.admin }));
    const goal = keep(await w.goalState());
    const sealed = (
      goal.body['extensions'] as {
        name: string;
        protectedSettings: { jwe: string; keyId: string };
      }[]
    ).find((e) => e.name === 'Secret')?.protectedSettings;
    assert.ok(sealed !== undefined);
    assert.deepEqual(await openProtectedSettings(sealed, w.agentA.privateKey), {
      password: secret,
    });
    keep(
      await w.call('PATCH', `${w.extension('Secret')}?${V}`, {
        as: w.admin,
        body: { properties: { protectedSettings: { password: `${secret}-2` } } },
      }),
    );
    for (const text of responses) assert.equal(text.includes(secret), false, text.slice(0, 200));
    const files = await sql<{ file: string }>`PRAGMA database_list`.execute(w.t.db);
    const file = files.rows[0]?.file ?? '';
    assert.notEqual(file, '');
    for (const suffix of ['', '-wal']) {
      const bytes = await readFile(`${file}${suffix}`).catch(() => Buffer.alloc(0));
      assert.equal(bytes.includes(secret), false, `database file${suffix}`);
    }
  });
});
