// `tether access show`: the scope asked about, and indirect administrators called out in the
// table as well as flagged in JSON (S2).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CliTestKit, TEST_SUBSCRIPTION } from '../client/cli-test-kit.js';
import { register } from './access.js';

const SUB = `/subscriptions/${TEST_SUBSCRIPTION}`;
const MACHINE = `${SUB}/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/web-01`;
const ENTRIES = [
  {
    principalId: 'p1',
    principalType: 'ServicePrincipal',
    displayName: 'deploy',
    roleName: 'Contributor',
    roleDefinitionId: 'r1',
    assignmentId: 'a1',
    assignedAt: SUB.toLowerCase(),
    inherited: true,
    viaGroup: null,
    indirectAdministrator: true,
  },
  {
    principalId: 'p2',
    principalType: 'User',
    displayName: 'Ada',
    roleName: 'Reader',
    roleDefinitionId: 'r2',
    assignmentId: 'a2',
    assignedAt: MACHINE.toLowerCase(),
    inherited: false,
    viaGroup: 'g1',
    indirectAdministrator: false,
  },
  {
    principalId: 'G1',
    principalType: 'Group',
    displayName: 'ops',
    roleName: 'Reader',
    roleDefinitionId: 'r2',
    assignmentId: 'a2',
    assignedAt: MACHINE.toLowerCase(),
    inherited: false,
    viaGroup: null,
    indirectAdministrator: false,
  },
];

void describe('tether access show', () => {
  let kit: CliTestKit;
  beforeEach(async () => {
    kit = await CliTestKit.create(register);
    await kit.signIn();
    kit.transport.on('GET', /\/providers\/Tether\.Authorization\/access$/, {
      body: { value: ENTRIES },
    });
  });
  afterEach(() => kit.dispose());

  void it('asks about a machine named by -g and --machine', async () => {
    const run = await kit.run('access', 'show', '-g', 'rg', '--machine', 'web-01');
    assert.equal(run.exitCode, 0, run.stderr);
    const [request] = kit.transport.requests;
    assert.equal(request?.path, `${MACHINE}/providers/Tether.Authorization/access`);
    assert.equal(request?.query.get('api-version'), '2026-11-01');
    assert.deepEqual(JSON.parse(run.stdout), ENTRIES);
  });

  void it('marks indirect administrators in the table and says what that means', async () => {
    const run = await kit.run('access', 'show', '--scope', MACHINE, '-o', 'table');
    const lines = run.stdout.split('\n');
    assert.match(
      lines[0] ?? '',
      /^Principal\s+Type\s+Role\s+AssignedAt\s+Inherited\s+ViaGroup\s+IndirectAdmin$/,
    );
    assert.match(lines[2] ?? '', /^deploy\s+ServicePrincipal\s+Contributor\s+\S+\s+True\s+YES$/);
    assert.match(lines[3] ?? '', /^Ada\s+User\s+Reader\s+\S+\s+False\s+ops\s+no$/);
    assert.match(
      run.stdout,
      /1 principal\(s\) marked IndirectAdmin can deploy extensions, which run as root/,
    );
  });

  void it('defaults to the subscription, and refuses --machine without its group', async () => {
    await kit.run('access', 'show');
    assert.equal(kit.transport.requests[0]?.path, `${SUB}/providers/Tether.Authorization/access`);
    const run = await kit.run('access', 'show', '--machine', 'web-01');
    assert.equal(run.exitCode, 2);
    assert.match(run.stderr, /--machine needs --resource-group/);
    assert.equal(kit.transport.requests.length, 1);
  });
});
