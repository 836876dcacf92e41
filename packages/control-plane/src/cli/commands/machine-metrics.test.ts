// `tether machine metrics`: the query it sends, the table of figures in their units, the chart
// drawn only on a terminal, and what it says when a machine sent nothing.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CliTestKit, TEST_SUBSCRIPTION } from '../client/testing/cli-test-kit.js';
import { register } from './machine.js';

const METRICS = `/subscriptions/${TEST_SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/web-01/providers/Microsoft.Insights/metrics`;
const series = (name: string, unit: string, averages: number[]) => ({
  name: { value: name, localizedValue: name },
  unit,
  timeseries: [
    {
      metadatavalues: [],
      data: averages.map((average, minute) => ({
        timeStamp: `2026-06-01T11:${String(30 + minute).padStart(2, '0')}:00Z`,
        average,
      })),
    },
  ],
});

void describe('tether machine metrics', () => {
  let kit: CliTestKit;
  beforeEach(async () => {
    kit = await CliTestKit.create(register);
    await kit.signIn();
    kit.transport.on('GET', METRICS, {
      body: {
        value: [
          series('Percentage CPU', 'Percent', [10, 20, 90]),
          series('Used Memory Bytes', 'Bytes', [2 * 1024 ** 3, 2 * 1024 ** 3, 3 * 1024 ** 3]),
        ],
      },
    });
  });
  afterEach(() => kit.dispose());

  void it('asks for the last hour of the metrics named, and prints them per interval', async () => {
    const run = await kit.run(
      'machine',
      'metrics',
      '-g',
      'rg',
      '--machine-name',
      'web-01',
      '--metric',
      'Percentage CPU',
      'Used Memory Bytes',
      '--interval',
      '1m',
      '-o',
      'table',
    );
    assert.equal(run.exitCode, 0, run.stderr);
    const query = kit.transport.requests[0]?.query;
    assert.equal(query?.get('metricnames'), 'Percentage CPU,Used Memory Bytes');
    assert.equal(query?.get('timespan'), '2026-06-01T11:00:00.000Z/2026-06-01T12:00:00.000Z');
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^Time\s+Percentage CPU\s+Used Memory Bytes$/);
    assert.match(lines[2] ?? '', /^2026-06-01T11:30:00Z\s+10\.0 %\s+2\.00 GiB$/);
    assert.match(lines[4] ?? '', /^2026-06-01T11:32:00Z\s+90\.0 %\s+3\.00 GiB$/);
    assert.equal(lines.length, 5, 'no chart when the output is not a terminal');
  });

  void it('averages into the interval and draws a chart on a terminal', async () => {
    kit.terminal = true;
    const run = await kit.run(
      'machine',
      'metrics',
      '-g',
      'rg',
      '--machine-name',
      'web-01',
      '--interval',
      '2m',
      '-o',
      'table',
    );
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /^2026-06-01T11:30:00Z\s+15\.0 %\s+2\.00 GiB$/m);
    assert.match(run.stdout, /^Percentage CPU\s+▁█\s+15\.0 % … 90\.0 %$/m);
    assert.match(run.stdout, /^Used Memory Bytes\s+▁█\s+2\.00 GiB … 3\.00 GiB$/m);
  });

  void it('gives JSON figures as numbers, and says where to look when there are none', async () => {
    const json = await kit.run('machine', 'metrics', '-g', 'rg', '--machine-name', 'web-01');
    const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
    assert.deepEqual(rows[0], {
      timeStamp: '2026-06-01T11:30:00Z',
      'Percentage CPU': 40,
      'Used Memory Bytes': (2 * 1024 ** 3 * 2 + 3 * 1024 ** 3) / 3,
    });
    kit.transport.on('GET', METRICS, {
      body: { value: [series('Percentage CPU', 'Percent', [])] },
    });
    const none = await kit.run('machine', 'metrics', '-g', 'rg', '--machine-name', 'web-01');
    assert.equal(none.exitCode, 0);
    assert.match(
      none.stderr,
      /web-01 sent no figures in that time: is the .*AzureMonitorLinuxAgent/,
    );
  });

  void it('refuses a bad interval before sending anything', async () => {
    const run = await kit.run(
      'machine',
      'metrics',
      '-g',
      'rg',
      '--machine-name',
      'web-01',
      '--interval',
      '30s',
    );
    assert.equal(run.exitCode, 2);
    assert.match(run.stderr, /Expected an interval of one minute to one day/);
    assert.equal(kit.transport.requests.length, 0);
  });
});
