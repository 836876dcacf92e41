// Status reports survive an unreachable control plane: kept in order and retried with backoff
// until accepted; a report the control plane will never take (409 stale operation) is dropped.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReportQueue } from './report-queue.js';
import type { StatusReport } from './status-report.js';
import { FakeExtensionApi } from './testing/fake-extension-api.js';
import { ManualScheduler, seeded, until } from './testing/manual-scheduler.js';

function report(name: string, operationId: string | null = `op-${name}`): StatusReport {
  return {
    name,
    operationId,
    sequence: 1,
    result: 'Succeeded',
    instanceView: {
      name,
      type: 'T',
      typeHandlerVersion: '1.0',
      status: { code: '0', level: 'Info', displayStatus: 'ok', message: 'ok', time: 'x' },
    },
  };
}

void describe('ReportQueue', () => {
  void test('retries with backoff until the control plane takes the reports, in order', async () => {
    const api = new FakeExtensionApi();
    const scheduler = new ManualScheduler();
    const logs: string[] = [];
    const queue = new ReportQueue({
      api,
      scheduler,
      random: seeded(3),
      backoff: { baseMs: 1_000, capMs: 300_000 },
      log: (line) => logs.push(line),
    });
    api.reportAnswers.push(new Error('unreachable'), new Error('unreachable'));
    queue.send(report('A'));
    queue.send(report('B'));
    await until('the first retry to be scheduled', () => scheduler.pending.length === 1);
    assert.equal(queue.size, 2);
    assert.ok((scheduler.delays()[0] ?? 0) >= 1_000);
    scheduler.runNext();
    await until('the second retry', () => scheduler.pending.length === 1);
    scheduler.runNext();
    await queue.idle();
    assert.equal(queue.size, 0);
    assert.deepEqual(
      api.reports.map((item) => item.name),
      ['A', 'A', 'A', 'B'],
    );
    assert.equal(logs.filter((line) => line.includes('cannot send')).length, 1);
    assert.ok(logs.some((line) => line.includes('reach the control plane again')));
  });

  void test('drops what the control plane will never take (a stale operation id: 409)', async () => {
    const api = new FakeExtensionApi();
    const scheduler = new ManualScheduler();
    const logs: string[] = [];
    const queue = new ReportQueue({ api, scheduler, random: seeded(3), log: (l) => logs.push(l) });
    api.reportAnswers.push({ dropped: '409 Conflict: operation op-A is not in progress' });
    queue.send(report('A'));
    queue.send(report('B'));
    await queue.idle();
    assert.equal(scheduler.pending.length, 0);
    assert.deepEqual(
      api.reports.map((item) => item.name),
      ['A', 'B'],
    );
    assert.match(logs[0] ?? '', /status of A \(operation op-A\) not taken, dropped: 409/);
  });

  void test('stop ends the retries', async () => {
    const api = new FakeExtensionApi();
    const scheduler = new ManualScheduler();
    const queue = new ReportQueue({ api, scheduler, random: seeded(3), log: () => undefined });
    api.reportAnswers.push(new Error('unreachable'));
    queue.send(report('A'));
    await until('the retry to be scheduled', () => scheduler.pending.length === 1);
    queue.stop();
    assert.equal(scheduler.pending.length, 0);
    await queue.idle();
  });
});
