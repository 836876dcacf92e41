// `--workers` and the pool each worker is given: what is accepted, what is refused with which
// message, that a node of up to 26 workers stays within its 80 PostgreSQL connections, and when a
// worker that died is started again.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  defaultPoolSize,
  NODE_CONNECTION_BUDGET,
  nextRestart,
  parseWorkers,
} from './server-workers.js';

void describe('--workers', () => {
  void it('takes a whole number from 1 to 256, or auto for one per CPU', () => {
    assert.equal(parseWorkers('1'), 1);
    assert.equal(parseWorkers('8'), 8);
    assert.equal(parseWorkers('256'), 256);
    assert.equal(parseWorkers('auto'), availableParallelism());
  });

  for (const text of ['0', '-1', '1.5', '257', 'two', '', ' 2', '0x4']) {
    void it(`refuses ${JSON.stringify(text)}, naming the value`, () => {
      assert.throws(
        () => parseWorkers(text),
        (error: Error & { code?: string }) =>
          error.code === 'ERR_SERVER_CONFIG' &&
          error.message.startsWith(`--workers ${JSON.stringify(text)} is not valid`),
      );
    });
  }
});

void describe("each worker's PostgreSQL pool", () => {
  void it("is pg's 10 for one process and shares the node's budget among workers", () => {
    assert.deepEqual([1, 2, 7, 8, 16, 26, 40].map(defaultPoolSize), [10, 10, 10, 9, 4, 2, 2]);
  });

  void it('keeps a node of up to 26 workers within the budget, listening connections included', () => {
    for (let workers = 2; workers <= 26; workers++) {
      assert.ok(
        workers * (defaultPoolSize(workers) + 1) <= NODE_CONNECTION_BUDGET,
        `${workers} workers`,
      );
    }
  });
});

void describe('a worker that died', () => {
  void it('is started again at once after a run of a minute or more, whatever came before', () => {
    assert.deepEqual(nextRestart(60_000, 0), { delayMs: 0, quickDeaths: 0 });
    assert.deepEqual(nextRestart(3_600_000, 7), { delayMs: 0, quickDeaths: 0 });
  });

  void it('waits 0.5 s, doubling up to 30 s, while it keeps dying soon after its start', () => {
    const delays: number[] = [];
    let quickDeaths = 0;
    for (let death = 0; death < 9; death++) {
      const next = nextRestart(59_999, quickDeaths);
      delays.push(next.delayMs);
      quickDeaths = next.quickDeaths;
    }
    assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    // A stable run then starts the count over.
    assert.deepEqual(nextRestart(60_000, quickDeaths), { delayMs: 0, quickDeaths: 0 });
    assert.deepEqual(nextRestart(10, 0), { delayMs: 500, quickDeaths: 1 });
  });
});

void describe('a worker that does not serve in time', () => {
  void it('is ended, and the start fails naming it, the other workers stopped', () => {
    const program = fileURLToPath(new URL('./testing/silent-worker.js', import.meta.url));
    const run = spawnSync(process.execPath, [program, '1500'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 1, `${run.stdout}\n${run.stderr}`);
    assert.match(
      run.stdout,
      /^failed: worker 2 of 2 did not serve within 2 s and was ended; what it last logged is above$/m,
    );
    assert.doesNotMatch(run.stdout, /announced/);
    const logged = run.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg?: string; worker?: number });
    assert.ok(
      logged.some((l) => l.msg === 'worker did not serve in time; ending it' && l.worker === 2),
      run.stderr,
    );
  });
});
