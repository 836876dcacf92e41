// `tether activity list`: az's time-window rules, the OData filter sent, and client-side
// filters by caller, status and correlation id.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CliTestKit, TEST_SUBSCRIPTION } from '../client/testing/cli-test-kit.js';
import { register, timeWindow } from './activity.js';

const PATH = `/subscriptions/${TEST_SUBSCRIPTION}/providers/Microsoft.Insights/eventtypes/management/values`;
const event = (n: number, caller: string, status: string) => ({
  eventDataId: `e${n}`,
  correlationId: `c${n}`,
  caller,
  callerDisplayName: caller === 'app-a' ? 'deploy pipeline' : null,
  operationName: { value: 'Microsoft.HybridCompute/machines/delete' },
  status: { value: status },
  subStatus: { value: status === 'Failed' ? 'AuthorizationFailed' : '200' },
  resourceId: `/subscriptions/${TEST_SUBSCRIPTION}/resourcegroups/rg/providers/microsoft.hybridcompute/machines/m${n}`,
  eventTimestamp: `2026-06-01T11:0${n}:00.000Z`,
});

void describe('tether activity list', () => {
  let kit: CliTestKit;
  beforeEach(async () => {
    kit = await CliTestKit.create(register);
    await kit.signIn();
    kit.transport.on('GET', PATH, {
      body: {
        value: [
          event(3, 'app-b', 'Failed'),
          event(2, 'app-a', 'Succeeded'),
          event(1, 'app-a', 'Failed'),
        ],
      },
    });
  });
  afterEach(() => kit.dispose());

  void it('asks for the last six hours by default, in the resource group given', async () => {
    const run = await kit.run('activity', 'list', '-g', 'rg');
    assert.equal(run.exitCode, 0, run.stderr);
    const [request] = kit.transport.requests;
    assert.equal(request?.query.get('api-version'), '2015-04-01');
    assert.equal(
      request?.query.get('$filter'),
      "eventTimestamp ge '2026-06-01T06:00:00.000Z' and eventTimestamp le '2026-06-01T12:00:00.000Z' and resourceGroupName eq 'rg'",
    );
  });

  void it('filters by caller and status, and prints a table', async () => {
    const run = await kit.run(
      'activity',
      'list',
      '--caller',
      'APP-A',
      '--status',
      'failed',
      '-o',
      'table',
    );
    const lines = run.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.match(
      lines[0] ?? '',
      /^Time\s+Caller\s+CallerName\s+Operation\s+Status\s+SubStatus\s+Resource\s+Detail$/,
    );
    assert.match(
      lines[2] ?? '',
      /^2026-06-01T11:01:00.000Z\s+app-a\s+deploy pipeline\s+Microsoft.HybridCompute\/machines\/delete\s+Failed\s+AuthorizationFailed\s+\S+m1$/,
    );
  });

  void it('shows the local user and the change of a configuration change made on the machine', async () => {
    kit.transport.on('GET', PATH, {
      body: {
        value: [
          {
            ...event(4, 'machine-principal', 'Succeeded'),
            callerDisplayName: 'web-04',
            operationName: { value: 'Microsoft.HybridCompute/machines/localConfiguration/write' },
            properties: {
              localUserId: 0,
              localUserName: 'root',
              sudoUserId: 1000,
              property: 'extensions.allowlist',
              oldValue: '[]',
              newValue: '[Microsoft.Azure.Monitor/AzureMonitorLinuxAgent]',
              localTime: '2026-06-01T11:03:59.000Z',
              sequence: 7,
            },
          },
        ],
      },
    });
    const run = await kit.run('activity', 'list', '-o', 'table');
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(
      run.stdout.trimEnd().split('\n')[2] ?? '',
      /web-04\s+Microsoft.HybridCompute\/machines\/localConfiguration\/write\s+Succeeded\s+200\s+\S+m4\s+uid 0 \(root, sudo by uid 1000\): extensions.allowlist \[\] -> \[Microsoft.Azure.Monitor\/AzureMonitorLinuxAgent\]$/,
    );
  });

  void it('stops at --max-events', async () => {
    const run = await kit.run('activity', 'list', '--max-events', '2');
    assert.deepEqual(
      (JSON.parse(run.stdout) as { eventDataId: string }[]).map((e) => e.eventDataId),
      ['e3', 'e2'],
    );
  });

  void it('follows az on start, end and offset', () => {
    const now = Date.UTC(2026, 5, 1, 12);
    const iso = (w: { start: Date; end: Date }) => [w.start.toISOString(), w.end.toISOString()];
    assert.deepEqual(iso(timeWindow({}, now)), [
      '2026-06-01T06:00:00.000Z',
      '2026-06-01T12:00:00.000Z',
    ]);
    assert.deepEqual(iso(timeWindow({ offset: 86_400_000 }, now)), [
      '2026-05-31T12:00:00.000Z',
      '2026-06-01T12:00:00.000Z',
    ]);
    const start = new Date('2026-05-01T00:00:00Z');
    assert.deepEqual(iso(timeWindow({ startTime: start, offset: 3_600_000 }, now)), [
      '2026-05-01T00:00:00.000Z',
      '2026-05-01T01:00:00.000Z',
    ]);
    const end = new Date('2026-05-02T00:00:00Z');
    assert.deepEqual(iso(timeWindow({ startTime: start, endTime: end, offset: 1 }, now)), [
      '2026-05-01T00:00:00.000Z',
      '2026-05-02T00:00:00.000Z',
    ]);
  });

  void it('refuses a window that ends before it starts, and two places at once', async () => {
    const backwards = await kit.run(
      'activity',
      'list',
      '--start-time',
      '2026-06-01T10:00',
      '--end-time',
      '2026-06-01T09:00',
    );
    assert.equal(backwards.exitCode, 2);
    assert.match(
      backwards.stderr,
      /--start-time 2026-06-01T10:00:00.000Z is not before --end-time 2026-06-01T09:00:00.000Z/,
    );
    const both = await kit.run(
      'activity',
      'list',
      '-g',
      'rg',
      '--resource-id',
      `/subscriptions/${TEST_SUBSCRIPTION}/resourceGroups/rg`,
    );
    assert.equal(both.exitCode, 2);
    const badOffset = await kit.run('activity', 'list', '--offset', '1w');
    assert.equal(badOffset.exitCode, 2);
    assert.match(badOffset.stderr, /##d##h/);
    assert.equal(kit.transport.requests.length, 0);
  });
});
