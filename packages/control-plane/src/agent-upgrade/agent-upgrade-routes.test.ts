// Agent upgrades on the control plane: publishing azcmagent packages (real .debs, checked by
// dpkg-deb), asking for an upgrade with an ordinary machine write, the goal state that hands it
// to the machine's agent, automatic upgrades following a publish, and the agent's report.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import {
  signAgentPackage,
  signPackage,
  verifyAgentPackage,
} from '@tether/protocol/extension-package';
import { after, before, describe, it } from 'node:test';
import { OWNER_ROLE_ID } from '../rbac/built-in-roles.js';
import { AGENT_V, ExtensionTestWorld, V } from '../extensions/testing/extension-test-world.js';
import { inspectAgentDeb } from './deb-inspection.js';
import { smallDeb } from './testing/small-deb.js';

const PACKAGES = '/providers/Tether.Agent/packages';

void describe('agent upgrades', () => {
  let w: ExtensionTestWorld;
  let owner: string;
  const publisher = generateKeyPairSync('ed25519');
  // What dpkg-deb reads in the package; a package it cannot read is signed as 0 (and refused).
  const versionOf = (deb: Buffer): Promise<string> =>
    inspectAgentDeb(deb).then(
      (control) => control.version,
      () => '0',
    );
  const upload = (deb: Buffer, signature: string | undefined, as = owner) =>
    w.call('POST', `${PACKAGES}?${AGENT_V}`, {
      as,
      body: { package: deb.toString('base64'), ...(signature === undefined ? {} : { signature }) },
    });
  const publish = async (deb: Buffer, as = owner) =>
    upload(deb, await signAgentPackage(publisher.privateKey, await versionOf(deb), deb), as);
  const patch = (agentUpgrade: unknown, as = w.admin, machine = 'web-01') =>
    w.call('PATCH', `${w.machine(machine)}?${V}`, { as, body: { properties: { agentUpgrade } } });
  const machine = async (name = 'web-01') => {
    const answer = await w.call('GET', `${w.machine(name)}?${V}`, { as: w.admin });
    assert.equal(answer.status, 200);
    return (answer.body['properties'] as Record<string, unknown>)['agentUpgrade'] as
      Record<string, unknown> | undefined;
  };

  before(async () => {
    w = await ExtensionTestWorld.create();
    owner = await w.t.addPrincipal();
    await w.t.assign(owner, OWNER_ROLE_ID, '/');
  });
  after(() => w.close());

  void it('publishes an azcmagent package, checked, with its digest, and lists it', async () => {
    const deb = smallDeb({ version: '1.0.0' });
    const answer = await publish(deb);
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    assert.equal(answer.body['version'], '1.0.0');
    assert.equal(answer.body['sha256'], createHash('sha256').update(deb).digest('hex'));
    assert.equal(answer.body['size'], deb.byteLength);
    await verifyAgentPackage(String(answer.body['signature']), [publisher.publicKey], '1.0.0', deb);
    // The same bytes again: nothing new, the same answer.
    const again = await publish(deb);
    assert.equal(again.status, 200);
    assert.equal((await publish(smallDeb({ version: '1.2.0~rc1' }))).status, 201);
    const list = await w.call('GET', `${PACKAGES}?${AGENT_V}`, { as: w.reader });
    assert.deepEqual(
      (list.body['value'] as { version: string }[]).map((p) => p.version),
      ['1.2.0~rc1', '1.0.0'],
    );
    const content = await w.t.app.inject({
      method: 'GET',
      url: `${PACKAGES}/1.0.0/content?${AGENT_V}`,
      headers: { authorization: `Bearer ${w.machineA}` },
    });
    assert.equal(content.statusCode, 200);
    assert.deepEqual(content.rawPayload, deb);
  });

  void it('refuses what is not a well-formed azcmagent package, and keeps nothing of it', async () => {
    const cases: [Buffer, RegExp][] = [
      [Buffer.from('#!/bin/sh\necho not a package\n'), /not a Debian package/],
      [
        Buffer.concat([smallDeb({ version: '3.0.0' }).subarray(0, 200)]),
        /not a readable Debian package/,
      ],
      [smallDeb({ name: 'nginx', version: '3.0.0' }), /'nginx', not azcmagent/],
      [smallDeb({ version: '3.0.0', architecture: 'arm64' }), /built for 'arm64'/],
      [
        smallDeb({ version: '1.0.0', content: 'other bytes' }),
        /already published with other contents/,
      ],
    ];
    for (const [deb, message] of cases) {
      const answer = await publish(deb);
      assert.ok(answer.status === 400 || answer.status === 409, String(answer.status));
      assert.match(JSON.stringify(answer.body), message);
    }
    // The package field is read as the extension repository reads its zip.
    const signature = await signAgentPackage(publisher.privateKey, '3.0.0', Buffer.from('x'));
    const bodies: [Record<string, unknown>, RegExp][] = [
      [{ signature }, /'package' is required: the azcmagent \.deb, base64-encoded/],
      [{ package: 'ITxhcmNoPgo!!', signature }, /'package' is not valid base64/],
      [{ package: 'ITxhcmNoPgo=\n', signature }, /'package' is not valid base64/],
    ];
    for (const [body, message] of bodies) {
      const answer = await w.call('POST', `${PACKAGES}?${AGENT_V}`, { as: owner, body });
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.match(JSON.stringify(answer.body), message);
    }
    const list = await w.call('GET', `${PACKAGES}?${AGENT_V}`, { as: w.reader });
    assert.equal((list.body['value'] as unknown[]).length, 2);
    // The signature must name this package exactly; who made it is for each machine to judge.
    const deb = smallDeb({ version: '3.0.0' });
    const other = smallDeb({ version: '3.0.0', content: 'other' });
    const signed = (version: string, bytes: Buffer) =>
      signAgentPackage(publisher.privateKey, version, bytes);
    const signatureCases: [string | undefined, RegExp][] = [
      [undefined, /'signature' is required/],
      ['', /'signature' is required/],
      ['not.a.jws', /not an agent package signature/],
      [
        await signPackage(
          publisher.privateKey,
          { publisher: 'P', type: 'T', version: '3.0.0' },
          deb,
        ),
        /typ is \\"tether-extension-package\+jws\\", not \\"tether-agent-package\+jws\\"/,
      ],
      [await signed('3.0.1', deb), /signature is for version 3.0.1, not 3.0.0/],
      [await signed('3.0.0', other), /does not match the SHA-256 in its signature/],
    ];
    for (const [signature, message] of signatureCases) {
      const answer = await upload(deb, signature);
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.match(JSON.stringify(answer.body), message);
    }
    const stranger = generateKeyPairSync('ed25519');
    const byStranger = await upload(deb, await signAgentPackage(stranger.privateKey, '3.0.0', deb));
    assert.equal(byStranger.status, 201, 'the control plane does not judge who signed');
    await w.t.db.deleteFrom('agent_packages').where('version', '=', '3.0.0').execute();
    // Publishing needs the package write action at the root; a group's administrator lacks it.
    assert.equal((await publish(smallDeb({ version: '4.0.0' }), w.admin)).status, 403);
  });

  void it('an upgrade asked for by a machine write reaches the agent’s goal state', async () => {
    const before = (await w.goalState()).body;
    assert.equal(before['agentUpgrade'], null);
    const refused = await patch({ desiredVersion: '9.9.9' });
    assert.equal(refused.status, 400);
    assert.equal((refused.body['error'] as { code: string }).code, 'AgentPackageNotFound');
    assert.equal(await machine(), undefined, 'a refused request changes nothing');
    assert.equal((await patch({ desiredVersion: '1.0.0' }, w.reader)).status, 403);
    for (const bad of [
      { lastAttemptStatus: 'Success' },
      { downloadUrl: 'https://example.com/a.deb' },
      { desiredVersion: 7 },
      { correlationId: 'nope' },
      { surprise: true },
    ]) {
      assert.equal((await patch(bad)).status, 400, JSON.stringify(bad));
    }

    const accepted = await patch({ desiredVersion: '1.0.0' });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    const stored = await machine();
    assert.equal(stored?.['desiredVersion'], '1.0.0');
    assert.equal(stored?.['enableAutomaticUpgrade'], false);
    const goal = (await w.goalState(`&after=${String(before['generation'])}`)).body;
    assert.ok(Number(goal['generation']) > Number(before['generation']), 'the long poll answers');
    const upgrade = goal['agentUpgrade'] as Record<string, unknown>;
    assert.equal(upgrade['version'], '1.0.0');
    assert.equal(upgrade['correlationId'], stored?.['correlationId']);
    assert.equal(upgrade['downloadPath'], `${PACKAGES}/1.0.0/content?${AGENT_V}`);
    assert.match(String(upgrade['sha256']), /^[0-9a-f]{64}$/);
    const published = await w.call('GET', `${PACKAGES}/1.0.0?${AGENT_V}`, { as: w.reader });
    assert.equal(upgrade['signature'], published.body['signature'], 'the signature goes along');
    // The other machine was not asked.
    assert.equal((await w.goalState('', w.machineB, 'web-02')).body['agentUpgrade'], null);

    const events = await w.t.db
      .selectFrom('activity_log')
      .select(['operation_name', 'status'])
      .where('resource_id', '=', w.machine().toLowerCase())
      .execute();
    assert.ok(
      events.some(
        (e) =>
          e.operation_name === 'Microsoft.HybridCompute/machines/write' && e.status === 'Succeeded',
      ),
      'the request is in the activity log',
    );
  });

  void it('takes the agent’s report from its machine, not another, and shows it', async () => {
    const upgrade = (await w.goalState()).body['agentUpgrade'] as Record<string, unknown>;
    const report = {
      desiredVersion: '1.0.0',
      correlationId: upgrade['correlationId'],
      status: 'Failed',
      message: 'agent upgrades are refused by the local setting agentupgrade.enabled',
      timestamp: new Date(w.t.clock.now()).toISOString(),
    };
    const url = `${w.machine()}/agentUpgradeReport?${AGENT_V}`;
    assert.equal((await w.call('POST', url, { as: w.machineB, body: report })).status, 403);
    assert.equal((await w.call('POST', url, { as: w.reader, body: report })).status, 403);
    assert.equal(
      (await w.call('POST', url, { as: w.machineA, body: { ...report, status: 'Maybe' } })).status,
      400,
    );
    const answer = await w.call('POST', url, { as: w.machineA, body: report });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const shown = await machine();
    assert.equal(shown?.['lastAttemptStatus'], 'Failed');
    assert.equal(shown?.['lastAttemptDesiredVersion'], '1.0.0');
    assert.match(String(shown?.['lastAttemptMessage']), /agentupgrade\.enabled/);
    const events = await w.t.db
      .selectFrom('activity_log')
      .select(['status', 'sub_status'])
      .where('resource_id', '=', w.machine().toLowerCase())
      .where('sub_status', '=', 'AgentUpgradeFailed')
      .execute();
    assert.equal(events.length, 1, 'the failed attempt is in the activity log');
  });

  void it('automatic upgrades target the newest version and follow a publish, until withdrawn', async () => {
    const answer = await patch({ enableAutomaticUpgrade: true }, w.admin, 'web-02');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal((await machine('web-02'))?.['desiredVersion'], '1.2.0~rc1');
    const first = (await machine('web-02'))?.['correlationId'];
    assert.equal((await publish(smallDeb({ version: '1.2.0' }))).status, 201);
    const moved = await machine('web-02');
    assert.equal(moved?.['desiredVersion'], '1.2.0');
    assert.notEqual(moved?.['correlationId'], first, 'a new request for the new version');
    assert.equal((await machine('web-01'))?.['desiredVersion'], '1.0.0', 'manual stays');

    // Neither a version nor automatic upgrades: the request is withdrawn.
    assert.equal((await patch({ enableAutomaticUpgrade: false }, w.admin, 'web-02')).status, 200);
    assert.equal((await machine('web-02'))?.['desiredVersion'], undefined);
    assert.equal((await w.goalState('', w.machineB, 'web-02')).body['agentUpgrade'], null);
  });
});
