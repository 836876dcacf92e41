// `tether machine`: where list/show/delete send their requests, the status table with the
// reported lock-down posture, and confirmation before deleting.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CliTestKit, TEST_SUBSCRIPTION } from '../client/testing/cli-test-kit.js';
import { register } from './machine.js';

const SUB = `/subscriptions/${TEST_SUBSCRIPTION}`;
const MACHINES = `${SUB}/resourceGroups/rg/providers/Microsoft.HybridCompute/machines`;
const machine = (name: string, agentConfiguration: object) => ({
  id: `${MACHINES}/${name}`,
  name,
  location: 'westeurope',
  properties: {
    status: 'Connected',
    lastStatusChange: '2026-06-01T11:58:00Z',
    agentVersion: '1.0.0',
    osName: 'linux',
    agentConfiguration,
  },
});

void describe('tether machine', () => {
  let kit: CliTestKit;
  beforeEach(async () => {
    kit = await CliTestKit.create(register);
    await kit.signIn();
  });
  afterEach(() => kit.dispose());

  void it('lists a resource group with status, last change and extension posture', async () => {
    kit.transport.on('GET', MACHINES, {
      body: {
        value: [
          machine('web-01', {
            extensionsAllowList: [
              { publisher: 'Microsoft.Azure.Monitor', type: 'AzureMonitorLinuxAgent' },
            ],
            extensionsEnabled: 'true',
          }),
          machine('db-01', { extensionsEnabled: 'false' }),
        ],
      },
    });
    const run = await kit.run('machine', 'list', '-g', 'rg', '-o', 'table');
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(kit.transport.requests[0]?.query.get('api-version'), '2024-07-10');
    const lines = run.stdout.split('\n');
    assert.match(
      lines[0] ?? '',
      /^Name\s+ResourceGroup\s+Location\s+Status\s+LastStatusChange\s+AgentVersion\s+OsName\s+ExtensionPolicy$/,
    );
    assert.match(
      lines[2] ?? '',
      /^web-01\s+rg\s+westeurope\s+Connected\s+2026-06-01T11:58:00Z\s+1\.0\.0\s+linux\s+allowlist\(1\)$/,
    );
    assert.match(lines[3] ?? '', /\s+disabled$/);
  });

  void it('lists the whole subscription without -g', async () => {
    kit.transport.on('GET', `${SUB}/providers/Microsoft.HybridCompute/machines`, {
      body: { value: [] },
    });
    assert.equal((await kit.run('machine', 'list')).stdout, '[]\n');
  });

  void it('show needs both the name and the group', async () => {
    const run = await kit.run('machine', 'show', '-n', 'web-01');
    assert.equal(run.exitCode, 2);
    assert.match(run.stderr, /required option '-g, --resource-group <name>' not specified/);
  });

  void it('delete needs --yes without a terminal and then deletes the resource', async () => {
    kit.transport.on('DELETE', `${MACHINES}/web-01`, { status: 200 });
    assert.equal((await kit.run('machine', 'delete', '-n', 'web-01', '-g', 'rg')).exitCode, 2);
    assert.equal(kit.transport.requests.length, 0);
    assert.equal(
      (await kit.run('machine', 'delete', '-n', 'web-01', '-g', 'rg', '--yes')).exitCode,
      0,
    );
    assert.deepEqual(kit.transport.calls(), [`DELETE ${MACHINES}/web-01`]);
  });

  void it('shows a denied delete with the ARM code', async () => {
    kit.transport.on('DELETE', `${MACHINES}/web-01`, {
      status: 403,
      body: {
        error: {
          code: 'AuthorizationFailed',
          message:
            "The client 'x' does not have authorization to perform action 'Microsoft.HybridCompute/machines/delete'.",
        },
      },
    });
    const run = await kit.run('machine', 'delete', '-n', 'web-01', '-g', 'rg', '-y');
    assert.equal(run.exitCode, 1);
    assert.match(
      run.stderr,
      /^ERROR: \(AuthorizationFailed\) The client 'x' does not have authorization to perform action 'Microsoft.HybridCompute\/machines\/delete'\.\n$/,
    );
  });
});

void describe('tether machine upgrade-agent', () => {
  let kit: CliTestKit;
  beforeEach(async () => {
    kit = await CliTestKit.create(register);
    await kit.signIn();
  });
  afterEach(() => kit.dispose());

  const upgraded = (name: string) => ({
    id: `${MACHINES}/${name}`,
    name,
    properties: {
      agentVersion: '1.0.0',
      agentUpgrade: { desiredVersion: '1.1.0', enableAutomaticUpgrade: false },
    },
  });

  void it('asks one machine for a version with a PATCH of agentUpgrade', async () => {
    kit.transport.on('PATCH', `${MACHINES}/web-01`, { body: upgraded('web-01') });
    const run = await kit.run(
      'machine',
      'upgrade-agent',
      '--version',
      '1.1.0',
      '-g',
      'rg',
      '-n',
      'web-01',
      '-o',
      'table',
    );
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(kit.transport.requests[0]?.body, {
      properties: { agentUpgrade: { desiredVersion: '1.1.0' } },
    });
    assert.match(run.stdout.split('\n')[2] ?? '', /^web-01\s+rg\s+1\.0\.0\s+1\.1\.0\s+False/);
  });

  void it('rolls out to every machine of a group, or turns on automatic upgrades', async () => {
    kit.transport.on('GET', MACHINES, { body: { value: [upgraded('a'), upgraded('b')] } });
    kit.transport.on('PATCH', `${MACHINES}/a`, { body: upgraded('a') });
    kit.transport.on('PATCH', `${MACHINES}/b`, { body: upgraded('b') });
    const run = await kit.run('machine', 'upgrade-agent', '--automatic', '-g', 'rg');
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(kit.transport.calls(), [
      `GET ${MACHINES}`,
      `PATCH ${MACHINES}/a`,
      `PATCH ${MACHINES}/b`,
    ]);
    assert.deepEqual(kit.transport.requests[1]?.body, {
      properties: { agentUpgrade: { enableAutomaticUpgrade: true } },
    });
  });

  void it('refuses to guess what to install, or a name without its group', async () => {
    const none = await kit.run('machine', 'upgrade-agent', '-g', 'rg');
    assert.equal(none.exitCode, 2);
    assert.match(none.stderr, /--version V/);
    const nameOnly = await kit.run('machine', 'upgrade-agent', '--version', '1.1.0', '-n', 'x');
    assert.equal(nameOnly.exitCode, 2);
    assert.equal(kit.transport.requests.length, 0);
  });
});

void describe('tether machine extension', () => {
  const EXTENSIONS = `${MACHINES}/web-01/extensions`;
  const OPERATION = `${SUB}/providers/Microsoft.HybridCompute/locations/westeurope/operationStatuses/op-1`;
  const resource = (state: string) => ({
    id: `${EXTENSIONS}/CustomScript`,
    name: 'CustomScript',
    properties: {
      publisher: 'Microsoft.Azure.Extensions',
      type: 'CustomScript',
      typeHandlerVersion: '2.1',
      provisioningState: state,
      instanceView: { status: { displayStatus: 'Provisioning succeeded' } },
    },
  });
  const accepted = (status: number) => ({
    status,
    body: resource('Creating'),
    headers: {
      'azure-asyncoperation': `https://tether.test:8443${OPERATION}?api-version=2024-07-10`,
      'retry-after': '1',
    },
  });
  let kit: CliTestKit;
  beforeEach(async () => {
    kit = await CliTestKit.create(register);
    await kit.signIn();
  });
  afterEach(() => kit.dispose());

  const create = (...extra: string[]) =>
    kit.run(
      'machine',
      'extension',
      'create',
      '--machine-name',
      'web-01',
      '-g',
      'rg',
      '-n',
      'CustomScript',
      '--publisher',
      'Microsoft.Azure.Extensions',
      '--type',
      'CustomScript',
      '--type-handler-version',
      '2.1',
      '--settings',
      '{"commandToExecute":"date"}',
      ...extra,
    );

  void it('creates, waits for the operation and prints the resource', async () => {
    let polls = 0;
    kit.transport
      .on('PUT', `${EXTENSIONS}/CustomScript`, accepted(201))
      .on('GET', OPERATION, () => ({
        body: { status: (polls += 1) < 2 ? 'InProgress' : 'Succeeded' },
      }))
      .on('GET', `${EXTENSIONS}/CustomScript`, { body: resource('Succeeded') });
    const run = await create('--protected-settings', '{"password":"p"}');
    assert.equal(run.exitCode, 0, run.stderr);
    const put = kit.transport.requests.find((r) => r.method === 'PUT');
    assert.deepEqual(put?.body, {
      properties: {
        publisher: 'Microsoft.Azure.Extensions',
        type: 'CustomScript',
        typeHandlerVersion: '2.1',
        settings: { commandToExecute: 'date' },
        protectedSettings: { password: 'p' },
      },
    });
    assert.equal(polls, 2);
    assert.equal(
      (JSON.parse(run.stdout) as { properties: { provisioningState: string } }).properties
        .provisioningState,
      'Succeeded',
    );
  });

  void it('while waiting says the machine is disconnected, when it was last seen and when the request expires', async () => {
    let polls = 0;
    kit.interactive = true;
    kit.transport
      .on('PUT', `${EXTENSIONS}/CustomScript`, accepted(201))
      .on('GET', OPERATION, () => ({
        body:
          (polls += 1) < 3
            ? { status: 'InProgress', properties: { expiresOn: '2026-06-01T18:00:00.000Z' } }
            : { status: 'Succeeded' },
      }))
      .on('GET', `${MACHINES}/web-01`, {
        body: machine('web-01', {}),
      })
      .on('GET', `${EXTENSIONS}/CustomScript`, { body: resource('Succeeded') });
    const connected = await create();
    assert.equal(connected.exitCode, 0, connected.stderr);
    assert.match(connected.stderr, /\rWaiting for web-01 to apply 'CustomScript'… 0 s/);
    assert.doesNotMatch(connected.stderr, /WARNING/);

    polls = 0;
    kit.interactive = false;
    kit.transport.on('GET', `${MACHINES}/web-01`, {
      body: {
        ...machine('web-01', {}),
        properties: { status: 'Disconnected', lastStatusChange: '2026-06-01T09:30:00Z' },
      },
    });
    const disconnected = await create();
    assert.equal(disconnected.exitCode, 0, disconnected.stderr);
    assert.doesNotMatch(disconnected.stderr, /Waiting for/, 'no ticking line without a terminal');
    assert.equal(
      disconnected.stderr,
      'WARNING: web-01 is Disconnected, last seen 2026-06-01T09:30:00Z: the request waits for it to connect until 2026-06-01T18:00:00.000Z, then fails. Ctrl-C stops waiting; the request stays.\n',
    );
  });

  void it('exits non-zero with the operation error when the machine refuses', async () => {
    kit.transport.on('PUT', `${EXTENSIONS}/CustomScript`, accepted(201)).on('GET', OPERATION, {
      body: {
        status: 'Failed',
        error: { code: 'MachineNotReached', message: 'machine web-01 was last seen 7 hours ago' },
      },
    });
    const run = await create();
    assert.equal(run.exitCode, 1);
    assert.match(run.stderr, /\(MachineNotReached\) machine web-01 was last seen 7 hours ago/);
  });

  void it('--no-wait returns the accepted resource without polling; bad JSON is a usage error', async () => {
    kit.transport.on('PUT', `${EXTENSIONS}/CustomScript`, accepted(201));
    const run = await create('--no-wait');
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(kit.transport.calls(), [`PUT ${EXTENSIONS}/CustomScript`]);
    const bad = await kit.run(
      'machine',
      'extension',
      'create',
      '--machine-name',
      'web-01',
      '-g',
      'rg',
      '-n',
      'X',
      '--publisher',
      'P',
      '--type',
      'T',
      '--settings',
      '{nope',
    );
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /Expected a JSON object/);
  });

  void it('set patches only what is given and waits on a 200 with an operation', async () => {
    let polls = 0;
    kit.transport
      .on('PATCH', `${EXTENSIONS}/CustomScript`, accepted(200))
      .on('GET', OPERATION, () => ({
        body: { status: (polls += 1) < 2 ? 'InProgress' : 'Succeeded' },
      }))
      .on('GET', `${EXTENSIONS}/CustomScript`, { body: resource('Succeeded') });
    const run = await kit.run(
      'machine',
      'extension',
      'set',
      '--machine-name',
      'web-01',
      '-g',
      'rg',
      '-n',
      'CustomScript',
      '--settings',
      '{"a":1}',
    );
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(kit.transport.requests.find((r) => r.method === 'PATCH')?.body, {
      properties: { settings: { a: 1 } },
    });
    assert.equal(polls, 2);
  });

  void it('lists, shows and deletes', async () => {
    kit.transport
      .on('GET', EXTENSIONS, { body: { value: [resource('Succeeded')] } })
      .on('DELETE', `${EXTENSIONS}/CustomScript`, {
        status: 202,
        headers: {
          'azure-asyncoperation': `https://tether.test:8443${OPERATION}`,
          location: 'https://tether.test:8443/x',
        },
      })
      .on('GET', OPERATION, { body: { status: 'Succeeded' } });
    const list = await kit.run(
      'machine',
      'extension',
      'list',
      '--machine-name',
      'web-01',
      '-g',
      'rg',
      '-o',
      'table',
    );
    assert.equal(list.exitCode, 0, list.stderr);
    assert.match(
      list.stdout.split('\n')[0] ?? '',
      /^Name\s+Publisher\s+Type\s+Version\s+ProvisioningState\s+Status$/,
    );
    assert.match(
      list.stdout.split('\n')[2] ?? '',
      /^CustomScript\s+Microsoft\.Azure\.Extensions\s+CustomScript\s+2\.1\s+Succeeded\s+Provisioning succeeded$/,
    );
    const removed = await kit.run(
      'machine',
      'extension',
      'delete',
      '--machine-name',
      'web-01',
      '-g',
      'rg',
      '-n',
      'CustomScript',
      '--yes',
    );
    assert.equal(removed.exitCode, 0, removed.stderr);
    assert.ok(kit.transport.calls().includes(`GET ${OPERATION}`), 'waited for the removal');
  });
});
