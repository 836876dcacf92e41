// `tether server --workers N`: the node's port served by N processes with node:cluster, whose
// primary accepts each connection and hands it to the workers in turn. Every worker is a whole
// node over the shared PostgreSQL database — the nodes already act as one there (notifications,
// long-poll wake-ups, one leader) — so the primary only starts them, starts again one that
// dies (with a backoff) and, on SIGTERM or SIGINT, stops them all with their own graceful
// shutdown.
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { JsonLog } from './json-log.js';
import { ServerError } from './server-error.js';

/** What a worker tells the primary once it serves. */
export interface WorkerReady {
  readonly type: 'tether-worker-ready';
  readonly url: string;
  readonly portalUrl: string | undefined;
}

const WORKER_ENV = 'TETHER_SERVER_WORKER';
const MAX_WORKERS = 256;

/**
 * PostgreSQL connections one node may open across its workers: PostgreSQL allows 100 by
 * default and keeps 3 for superusers, which leaves room for psql, backups and a second node.
 */
export const NODE_CONNECTION_BUDGET = 80;
/** pg's own default pool size, which a node of one worker keeps. */
const DEFAULT_POOL_SIZE = 10;
const MIN_POOL_SIZE = 2;

/** A worker that ran at least this long before it died is started again at once. */
const STABLE_MS = 60_000;
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;

/**
 * When a worker that died after `ranMs` is started again, given how many of its deaths in a row
 * came soon after a start: at once after a stable run, else after 0.5 s doubling up to 30 s.
 */
export function nextRestart(
  ranMs: number,
  quickDeaths: number,
): { readonly delayMs: number; readonly quickDeaths: number } {
  if (ranMs >= STABLE_MS) return { delayMs: 0, quickDeaths: 0 };
  const deaths = quickDeaths + 1;
  return {
    delayMs: Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** (deaths - 1)),
    quickDeaths: deaths,
  };
}

/** `--workers`: a whole number from 1, or `auto` for one per CPU. */
export function parseWorkers(text: string): number {
  if (text === 'auto') return availableParallelism();
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_WORKERS) {
    throw new ServerError(
      'ERR_SERVER_CONFIG',
      `--workers ${JSON.stringify(text)} is not valid: expected a whole number from 1 to ${MAX_WORKERS}, or auto (one per CPU)`,
      { target: '--workers' },
    );
  }
  return n;
}

/**
 * Each worker's pool when none is given: the node's budget shared out, one connection of each
 * worker's share kept for its listening connection; pg's default for a node of one worker.
 */
export function defaultPoolSize(workers: number): number {
  if (workers <= 1) return DEFAULT_POOL_SIZE;
  const share = Math.floor(NODE_CONNECTION_BUDGET / workers) - 1;
  return Math.max(MIN_POOL_SIZE, Math.min(DEFAULT_POOL_SIZE, share));
}

/** This process's worker number (1…N) when it is one of a server's workers. */
export function workerNumber(): number | undefined {
  if (!cluster.isWorker) return undefined;
  const n = Number(process.env[WORKER_ENV]);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Tells the primary that this worker serves. */
export function reportReady(ready: Omit<WorkerReady, 'type'>): void {
  process.send?.({ type: 'tether-worker-ready', ...ready } satisfies WorkerReady);
}

/**
 * How long a worker may take from its start to serving: opening the database, migrating it and
 * loading the keys take seconds; one still silent after this is hung and is ended.
 */
export const START_DEADLINE_MS = 5 * 60_000;

interface Slot {
  readonly number: number;
  worker: Worker | undefined;
  startedAt: number;
  ready: boolean;
  /** Ends the worker if it has not served by then. */
  deadline: NodeJS.Timeout | undefined;
  /** It was ended for not serving in time. */
  timedOut: boolean;
  /** Deaths in a row, each soon after its start: they lengthen the wait before the next. */
  quickDeaths: number;
  restart: NodeJS.Timeout | undefined;
}

/**
 * Runs `count` workers until SIGTERM or SIGINT. `announce` is called once, when every worker
 * serves; a worker that dies, or does not serve within `startDeadlineMs`, before then fails the
 * start (the others are stopped); later it is ended and started again.
 */
export function superviseWorkers(
  count: number,
  log: JsonLog,
  announce: (ready: WorkerReady) => void,
  startDeadlineMs = START_DEADLINE_MS,
): Promise<void> {
  const slots: Slot[] = Array.from({ length: count }, (_, i) => ({
    number: i + 1,
    worker: undefined,
    startedAt: 0,
    ready: false,
    deadline: undefined,
    timedOut: false,
    quickDeaths: 0,
    restart: undefined,
  }));
  let announced = false;
  let stopping = false;
  let failure: Error | undefined;
  return new Promise<void>((resolve, reject) => {
    const finishIfDone = (): void => {
      if (!stopping || slots.some((s) => s.worker !== undefined)) return;
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      if (failure === undefined) resolve();
      else reject(failure);
    };
    const stop = (signal?: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      if (signal !== undefined) log.info({ signal }, 'shutting down: stopping the workers');
      for (const slot of slots) {
        clearTimeout(slot.restart);
        clearTimeout(slot.deadline);
        slot.worker?.process.kill('SIGTERM');
      }
      finishIfDone();
    };
    const start = (slot: Slot): void => {
      slot.restart = undefined;
      slot.ready = false;
      slot.timedOut = false;
      slot.startedAt = Date.now();
      const worker = cluster.fork({ [WORKER_ENV]: String(slot.number) });
      slot.worker = worker;
      slot.deadline = setTimeout(() => {
        slot.timedOut = true;
        log.error(
          { worker: slot.number, pid: worker.process.pid, startDeadlineMs },
          'worker did not serve in time; ending it',
        );
        worker.process.kill('SIGKILL');
      }, startDeadlineMs);
      worker.on('message', (message: WorkerReady | undefined) => {
        if (message?.type !== 'tether-worker-ready') return;
        clearTimeout(slot.deadline);
        slot.ready = true;
        log.info({ worker: slot.number, pid: worker.process.pid }, 'worker serving');
        if (!announced && slots.every((s) => s.ready)) {
          announced = true;
          announce(message);
        }
      });
      worker.on('exit', (code, signal) => {
        clearTimeout(slot.deadline);
        slot.worker = undefined;
        const how = { worker: slot.number, pid: worker.process.pid, code, signal };
        if (stopping) {
          // One still starting has no shutdown to run: the signal ends it.
          if (code !== 0 && slot.ready) {
            log.warn(how, 'worker did not stop cleanly');
            process.exitCode = 1;
          }
          finishIfDone();
          return;
        }
        if (!announced) {
          failure = new ServerError(
            'ERR_SERVER_CONFIG',
            slot.timedOut
              ? `worker ${slot.number} of ${count} did not serve within ${Math.round(startDeadlineMs / 1000)} s and was ended; what it last logged is above`
              : `worker ${slot.number} of ${count} exited (${signal ?? `code ${String(code)}`}) before it served; its error is above`,
          );
          stop();
          return;
        }
        const next = nextRestart(Date.now() - slot.startedAt, slot.quickDeaths);
        slot.quickDeaths = next.quickDeaths;
        const delay = next.delayMs;
        log.warn({ ...how, restartInMs: delay }, 'worker died; starting it again');
        slot.restart = setTimeout(() => start(slot), delay);
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    for (const slot of slots) start(slot);
  });
}
