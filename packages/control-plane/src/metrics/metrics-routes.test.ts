// Machine metrics in process: the machine posts its samples, a Reader reads them in the Azure
// Monitor shape; other callers are refused, bad samples change nothing, resent ones and a second
// one in a minute are ignored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { READER_ROLE_ID, TETHER_CONNECTED_MACHINE_ROLE_ID } from '../rbac/built-in-roles.js';
import { ArmTestApp } from '../resources/testing/arm-test-app.js';

const V = 'api-version=2024-07-10';
const MINUTE = 60_000;

interface Sample {
  time: string;
  cpuPercent: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
  diskUsedBytes: number;
  diskTotalBytes: number;
}

interface MetricsBody {
  cost: number;
  timespan: string;
  interval: string;
  namespace: string;
  resourceregion: string;
  value: {
    id: string;
    type: string;
    name: { value: string; localizedValue: string };
    unit: string;
    timeseries: { data: { timeStamp: string; average: number }[] }[];
  }[];
}

void describe('machine metrics routes', () => {
  let t: ArmTestApp;
  let sub: string;
  let machineA: string;
  let machineB: string;
  let reader: string;
  let urlA: string;
  let urlB: string;
  let start: number;

  before(async () => {
    t = await ArmTestApp.start();
    start = t.clock.now();
    sub = await t.addSubscription();
    const group = await t.addResourceGroup(sub, 'Fleet');
    const idA = await t.addMachine(sub, 'Fleet', 'web-1');
    const idB = await t.addMachine(sub, 'Fleet', 'web-2');
    machineA = await t.addPrincipal();
    machineB = await t.addPrincipal();
    reader = await t.addPrincipal('User');
    await t.assign(machineA, TETHER_CONNECTED_MACHINE_ROLE_ID, idA);
    await t.assign(machineB, TETHER_CONNECTED_MACHINE_ROLE_ID, idB);
    await t.assign(reader, READER_ROLE_ID, group);
    const base = `/subscriptions/${sub}/resourceGroups/Fleet/providers/Microsoft.HybridCompute/machines`;
    urlA = `${base}/web-1/providers/Microsoft.Insights/metrics`;
    urlB = `${base}/web-2/providers/Microsoft.Insights/metrics`;
  });
  after(() => t.close());

  const sample = (offsetMs: number, cpuPercent = 10): Sample => ({
    time: new Date(t.clock.now() + offsetMs).toISOString(),
    cpuPercent,
    memoryUsedBytes: 1000,
    memoryTotalBytes: 4000,
    diskUsedBytes: 50,
    diskTotalBytes: 100,
  });
  const rows = async (): Promise<number> =>
    (await t.db.selectFrom('machine_metrics').select('collected_at').execute()).length;
  const read = async (query = ''): Promise<MetricsBody> => {
    const res = await t.inject('GET', `${urlA}?${V}${query}`, { as: reader });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as unknown as MetricsBody;
  };

  void it('the machine posts samples and a Reader reads them per minute in the Azure Monitor shape', async () => {
    const posted = await t.inject('POST', `${urlA}?${V}`, {
      as: machineA,
      body: {
        samples: [sample(-10 * MINUTE, 10), sample(-9.5 * MINUTE, 30), sample(-5 * MINUTE, 50)],
      },
    });
    assert.equal(posted.status, 200, JSON.stringify(posted.body));
    // -9.5 minutes falls in the minute of -10: one sample per minute is kept.
    assert.deepEqual(posted.body, { accepted: 2, ignored: 1 });

    const body = await read();
    const now = t.clock.now();
    assert.equal(body.cost, 0);
    assert.equal(body.interval, 'PT1M');
    assert.equal(body.namespace, 'Microsoft.HybridCompute/machines');
    assert.equal(body.resourceregion, 'westeurope');
    assert.equal(body.timespan, `${iso(now - 60 * MINUTE)}/${iso(now)}`);
    assert.deepEqual(
      body.value.map((m) => [m.name.value, m.unit]),
      [
        ['Percentage CPU', 'Percent'],
        ['Used Memory Bytes', 'Bytes'],
        ['Total Memory Bytes', 'Bytes'],
        ['Used Disk Bytes', 'Bytes'],
        ['Total Disk Bytes', 'Bytes'],
      ],
    );
    const cpu = body.value[0];
    assert.equal(cpu?.type, 'Microsoft.Insights/metrics');
    assert.equal(cpu?.name.localizedValue, 'Percentage CPU');
    assert.equal(
      cpu?.id,
      `/subscriptions/${sub}/resourceGroups/Fleet/providers/Microsoft.HybridCompute/machines/web-1/providers/Microsoft.Insights/metrics/Percentage CPU`,
    );
    assert.deepEqual(cpu?.timeseries[0]?.data, [
      { timeStamp: iso(now - 10 * MINUTE), average: 10 },
      { timeStamp: iso(now - 5 * MINUTE), average: 50 },
    ]);
    assert.deepEqual(
      body.value[2]?.timeseries[0]?.data.map((d) => d.average),
      [4000, 4000],
    );

    // Routine reports stay out of the activity log, like heartbeats.
    const logged = await t.db
      .selectFrom('activity_log')
      .select('operation_name')
      .where('operation_name', '=', 'Microsoft.Insights/metrics/write')
      .execute();
    assert.deepEqual(logged, []);
  });

  void it('refuses another machine, a Reader posting and the machine reading', async () => {
    const before = await rows();
    const other = await t.inject('POST', `${urlA}?${V}`, {
      as: machineB,
      body: { samples: [sample(-1 * MINUTE)] },
    });
    assert.equal(other.status, 403);
    assert.equal((other.body['error'] as { code: string }).code, 'AuthorizationFailed');
    const byReader = await t.inject('POST', `${urlA}?${V}`, {
      as: reader,
      body: { samples: [sample(-1 * MINUTE)] },
    });
    assert.equal(byReader.status, 403);
    assert.equal((await t.inject('GET', `${urlA}?${V}`, { as: machineA })).status, 403);
    assert.equal((await t.inject('GET', `${urlA}?${V}`)).status, 401);
    assert.equal(await rows(), before);
    // Its own machine is fine.
    const own = await t.inject('POST', `${urlB}?${V}`, {
      as: machineB,
      body: { samples: [sample(-1 * MINUTE)] },
    });
    assert.equal(own.status, 200);
  });

  void it('refuses bad samples with a message naming the field, storing none of the post', async () => {
    const good = sample(-2 * MINUTE);
    const cases: [string, unknown, string, RegExp][] = [
      ['no samples', {}, 'samples', /is required/],
      ['samples not a list', { samples: 'x' }, 'samples', /is required/],
      ['unknown top field', { samples: [], extra: 1 }, 'extra', /not a known field/],
      [
        'negative',
        { samples: [good, { ...good, cpuPercent: -1 }] },
        'samples[1].cpuPercent',
        /non-negative/,
      ],
      [
        'cpu over 100',
        { samples: [good, { ...good, cpuPercent: 101 }] },
        'samples[1].cpuPercent',
        /at most 100/,
      ],
      [
        'a string',
        { samples: [good, { ...good, diskTotalBytes: '100' }] },
        'samples[1].diskTotalBytes',
        /number/,
      ],
      [
        'missing',
        { samples: [good, { ...good, memoryUsedBytes: undefined }] },
        'samples[1].memoryUsedBytes',
        /number/,
      ],
      [
        'used over total',
        { samples: [good, { ...good, memoryUsedBytes: 5000 }] },
        'samples[1].memoryUsedBytes',
        /memoryTotalBytes/,
      ],
      [
        'unknown field',
        { samples: [good, { ...good, gpu: 1 }] },
        'samples[1].gpu',
        /not a known field/,
      ],
      ['a sample not an object', { samples: [good, 3] }, 'samples[1]', /JSON object/],
      [
        'time not ISO',
        { samples: [good, { ...good, time: 'yesterday' }] },
        'samples[1].time',
        /ISO-8601/,
      ],
      [
        'time a number',
        { samples: [good, { ...good, time: 1767225600000 }] },
        'samples[1].time',
        /ISO-8601/,
      ],
      ['time ahead', { samples: [good, sample(6 * MINUTE)] }, 'samples[1].time', /5 minutes ahead/],
      [
        'too many',
        { samples: Array.from({ length: 1441 }, (_, i) => sample(-i * 1000)) },
        'samples',
        /at most 1440/,
      ],
    ];
    const before = await rows();
    for (const [name, body, target, message] of cases) {
      const res = await t.inject('POST', `${urlA}?${V}`, { as: machineA, body });
      assert.equal(res.status, 400, name);
      const error = res.body['error'] as { code: string; message: string; target: string };
      assert.equal(error.code, 'InvalidRequestContent', name);
      assert.equal(error.target, target, name);
      assert.match(error.message, message, name);
    }
    assert.equal(await rows(), before);
    // Four minutes ahead is within the allowed clock skew.
    const skewed = await t.inject('POST', `${urlA}?${V}`, {
      as: machineA,
      body: { samples: [sample(4 * MINUTE)] },
    });
    assert.deepEqual(skewed.body, { accepted: 1, ignored: 0 });
  });

  void it('keeps one sample per minute: a second in the same minute is ignored', async () => {
    const minute = Math.floor(t.clock.now() / MINUTE) * MINUTE - 40 * MINUTE;
    const at = (ms: number, cpuPercent: number): Sample => ({
      ...sample(0, cpuPercent),
      time: new Date(ms).toISOString(),
    });
    const before = await rows();
    const first = await t.inject('POST', `${urlA}?${V}`, {
      as: machineA,
      body: {
        samples: [
          at(minute + 1_000, 20),
          at(minute + 1_001, 90),
          at(minute + 59_999, 80),
          at(minute + MINUTE, 40),
        ],
      },
    });
    assert.deepEqual(first.body, { accepted: 2, ignored: 2 });
    const later = await t.inject('POST', `${urlA}?${V}`, {
      as: machineA,
      body: { samples: [at(minute + 30_000, 60), at(minute + MINUTE + 5_000, 60)] },
    });
    assert.deepEqual(later.body, { accepted: 0, ignored: 2 });
    assert.equal(await rows(), before + 2);
    const cpu = (await read('&metricnames=Percentage CPU')).value[0]?.timeseries[0]?.data;
    assert.deepEqual(
      cpu?.filter((d) => d.timeStamp === iso(minute) || d.timeStamp === iso(minute + MINUTE)),
      [
        { timeStamp: iso(minute), average: 20 },
        { timeStamp: iso(minute + MINUTE), average: 40 },
      ],
    );
  });

  void it('ignores samples it already has, however the time is spelled', async () => {
    const first = sample(-20 * MINUTE);
    const res = await t.inject('POST', `${urlA}?${V}`, {
      as: machineA,
      body: { samples: [first] },
    });
    assert.deepEqual(res.body, { accepted: 1, ignored: 0 });
    const before = await rows();
    const sameInstant = { ...first, time: first.time.replace('Z', '+00:00'), cpuPercent: 99 };
    const again = await t.inject('POST', `${urlA}?${V}`, {
      as: machineA,
      body: { samples: [first, sameInstant, sample(-19 * MINUTE)] },
    });
    assert.deepEqual(again.body, { accepted: 1, ignored: 2 });
    assert.equal(await rows(), before + 1);
    const cpu = (await read('&metricnames=Percentage CPU')).value[0]?.timeseries[0]?.data;
    assert.deepEqual(
      cpu?.find((d) => d.timeStamp === iso(t.clock.now() - 20 * MINUTE)),
      { timeStamp: iso(t.clock.now() - 20 * MINUTE), average: 10 },
    );
  });

  void it('filters by timespan and metric names; refuses what it cannot serve', async () => {
    await t.inject('POST', `${urlA}?${V}`, {
      as: machineA,
      body: { samples: [sample(-120 * MINUTE, 70)] },
    });
    const now = t.clock.now();
    const lastHour = await read('&metricnames=Percentage CPU');
    assert.ok(lastHour.value[0]?.timeseries[0]?.data.every((d) => d.average !== 70));
    const span = `${iso(now - 180 * MINUTE)}/${iso(now - 60 * MINUTE)}`;
    const earlier = await read(
      `&timespan=${encodeURIComponent(span)}&metricnames=${encodeURIComponent('used disk bytes,Percentage CPU')}&interval=PT1M&aggregation=Average`,
    );
    assert.equal(earlier.timespan, span);
    assert.deepEqual(
      earlier.value.map((m) => m.name.value),
      ['Used Disk Bytes', 'Percentage CPU'],
    );
    assert.deepEqual(earlier.value[1]?.timeseries[0]?.data, [
      { timeStamp: iso(now - 120 * MINUTE), average: 70 },
    ]);
    for (const [query, target] of [
      ['&timespan=yesterday', 'timespan'],
      [`&timespan=${encodeURIComponent(`${iso(now)}/${iso(now - MINUTE)}`)}`, 'timespan'],
      ['&metricnames=Network In', 'metricnames'],
      ['&interval=PT5M', 'interval'],
      ['&aggregation=Maximum', 'aggregation'],
    ] as const) {
      const res = await t.inject('GET', `${urlA}?${V}${query}`, { as: reader });
      assert.equal(res.status, 400, query);
      assert.equal((res.body['error'] as { target: string }).target, target, query);
    }
    const azureMonitorVersion = await t.inject('GET', `${urlA}?api-version=2023-10-01`, {
      as: reader,
    });
    assert.equal(azureMonitorVersion.status, 200);
  });

  void it('keeps 30 days: older samples are dropped on the next insert', async () => {
    const tooOld = await t.inject('POST', `${urlA}?${V}`, {
      as: machineA,
      body: { samples: [sample(-31 * 24 * 60 * MINUTE)] },
    });
    assert.deepEqual(tooOld.body, { accepted: 0, ignored: 1 });
    const countA = async () =>
      (
        await t.db
          .selectFrom('machine_metrics')
          .select('collected_at')
          .where('machine_id', 'like', '%/web-1')
          .execute()
      ).length;
    assert.ok((await countA()) > 0);
    t.clock.advance(31 * 24 * 60 * MINUTE);
    const later = await t.inject('POST', `${urlA}?${V}`, {
      as: machineA,
      body: { samples: [sample(-MINUTE)] },
    });
    assert.deepEqual(later.body, { accepted: 1, ignored: 0 });
    assert.equal(await countA(), 1);
    t.clock.set(start);
  });

  void it('answers 404 for a machine that does not exist', async () => {
    const ghost = urlA.replace('/web-1/', '/ghost/');
    const res = await t.inject('GET', `${ghost}?${V}`, { as: reader });
    assert.equal(res.status, 404);
    assert.equal((res.body['error'] as { code: string }).code, 'ResourceNotFound');
  });
});

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}
