// `tether access show`: the scope asked about, and indirect administrators called out in the
// table as well as flagged in JSON (S2).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CliTestKit, TEST_SUBSCRIPTION } from '../client/testing/cli-test-kit.js';
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

const REPORT = {
  machineId: MACHINE,
  localConfiguration: {
    reported: true,
    allowlist: ['Microsoft.Azure.Monitor/AzureMonitorLinuxAgent'],
  },
  doors: [
    {
      name: 'extensions',
      open: false,
      closedBy: 'extensions.allowlist admits no script-capable extension',
      openBecause: null,
    },
    {
      name: 'guestConfiguration',
      open: true,
      closedBy: null,
      openBecause: 'guestconfiguration.enabled is true',
    },
  ],
  principals: [
    {
      principalId: 'p1',
      principalType: 'User',
      displayName: 'Ada',
      viaGroup: { id: 'g1', displayName: 'ops' },
      doors: ['guestConfiguration'],
      grants: [{ roleName: 'Contributor', assignmentId: 'a1', assignedAt: SUB, actions: [] }],
      indirectAdministrator: true,
    },
  ],
  heldOffCount: 0,
  nobody: false,
  summary: '1 principal can run code as root on web-01 through Tether: Ada (guest configuration).',
};

void describe('tether access root', () => {
  let kit: CliTestKit;
  beforeEach(async () => {
    kit = await CliTestKit.create(register);
    await kit.signIn();
    kit.transport.on('GET', /machines\/web-01\/providers\/Tether\.Authorization\/rootAccess$/, {
      body: REPORT,
    });
    kit.transport.on('GET', /resourceGroups\/rg\/providers\/Tether\.Authorization\/rootAccess$/, {
      body: {
        value: [
          {
            machineId: MACHINE,
            name: 'web-01',
            resourceGroup: 'rg',
            reported: true,
            openDoors: ['guestConfiguration'],
            principalCount: 1,
            nobody: false,
          },
        ],
      },
    });
  });
  afterEach(() => kit.dispose());

  void it('prints one machine report as JSON, asking the machine with the report api-version', async () => {
    const run = await kit.run('access', 'root', '-g', 'rg', '--machine-name', 'web-01');
    assert.equal(run.exitCode, 0, run.stderr);
    const [request] = kit.transport.requests;
    assert.equal(request?.path, `${MACHINE}/providers/Tether.Authorization/rootAccess`);
    assert.equal(request?.query.get('api-version'), '2026-11-01');
    assert.deepEqual(JSON.parse(run.stdout), REPORT);
  });

  void it('as a table names each principal with its doors, then each door and the summary', async () => {
    const run = await kit.run('access', 'root', '-g', 'rg', '-n', 'web-01', '-o', 'table');
    assert.equal(run.exitCode, 0, run.stderr);
    const lines = run.stdout.split('\n');
    assert.match(lines[0] ?? '', /^Principal\s+Type\s+ViaGroup\s+Doors\s+Roles$/);
    assert.match(lines[2] ?? '', /^Ada\s+User\s+ops\s+guestConfiguration\s+Contributor$/);
    assert.match(
      run.stdout,
      /\nextensions: closed by extensions\.allowlist admits no script-capable extension\nguestConfiguration: open \(guestconfiguration\.enabled is true\)\n\n1 principal can run code as root on web-01/,
    );
  });

  void it('lists the machines of a group, and refuses --machine-name without its group', async () => {
    const run = await kit.run('access', 'root', '-g', 'rg', '-o', 'table');
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(
      run.stdout,
      /^Machine\s+ResourceGroup\s+Reported\s+OpenDoors\s+Principals\s+Nobody\n/,
    );
    assert.match(run.stdout, /\nweb-01\s+rg\s+True\s+guestConfiguration\s+1\s+False\n/);
    const refused = await kit.run('access', 'root', '--machine-name', 'web-01');
    assert.equal(refused.exitCode, 2);
    assert.match(refused.stderr, /--machine-name needs --resource-group/);
    assert.equal(kit.transport.requests.length, 1);
  });
});
