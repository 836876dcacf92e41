// `tether machine`: where list/show/delete send their requests, the status table with the
// reported lock-down posture, and confirmation before deleting.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CliTestKit, TEST_SUBSCRIPTION } from '../client/cli-test-kit.js';
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
      /^Name\s+ResourceGroup\s+Location\s+Status\s+LastStatusChange\s+AgentVersion\s+OsName\s+Extensions$/,
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
