// The notice-driven goal-state source against a real HIMDS server on loopback (its notice board
// moved by the test as the agent channel would): while announced it holds no long poll and
// fetches without `after` only when the sequence moves; not announced, HIMDS away or an older
// HIMDS without the endpoint, it long-polls as before and asks HIMDS again after each answer.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AgentState } from '../../identity/agent-state.js';
import { ChallengeStore } from '../../himds/challenge-store.js';
import { GoalStateNotices } from '../../himds/goal-state-notices.js';
import { createHimdsServer } from '../../himds/himds-server.js';
import { loopbackPeerUid } from '../../himds/loopback-peer.linux.js';
import type { GoalStateSource } from './goal-state-poller.js';
import { HimdsNoticeClient, NoticeDrivenSource } from './notice-driven-source.js';

interface State {
  readonly generation: number;
}

/** The control plane's side: every `after` asked with, answered at once (or failing). */
class RecordingApi implements GoalStateSource<State> {
  readonly asked: (number | undefined)[] = [];
  generation = 1;
  failNext: Error | undefined;
  goalState(after: number | undefined): Promise<State> {
    this.asked.push(after);
    const failure = this.failNext;
    this.failNext = undefined;
    return failure === undefined
      ? Promise.resolve({ generation: this.generation })
      : Promise.reject(failure);
  }
}

let dir: string;
let board: GoalStateNotices;
let server: Server;
let port: number;
/** HIMDS as an older agent's: no notice board, so the endpoint is not found. */
let olderServer: Server;
let olderPort: number;

async function listen(notices: GoalStateNotices | undefined): Promise<[Server, number]> {
  const clock = { now: () => Date.now() };
  const himds = createHimdsServer({
    state: () => ({}) as AgentState,
    challenges: new ChallengeStore(dir, clock),
    token: () => Promise.reject(new Error('no tokens here')),
    nowMs: clock.now,
    ...(notices === undefined ? {} : { notices }),
  });
  await new Promise<void>((resolve) => himds.listen(0, '127.0.0.1', resolve));
  return [himds, (himds.address() as AddressInfo).port];
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'notice-source-'));
  board = new GoalStateNotices(0);
  [server, port] = await listen(board);
  [olderServer, olderPort] = await listen(undefined);
});

after(() => {
  for (const s of [server, olderServer]) {
    s.closeAllConnections();
    s.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

function source(atPort: number, waitSeconds = 60, refetchMs = 3_600_000) {
  const api = new RecordingApi();
  const log: string[] = [];
  const ways: string[] = [];
  const goalStates = new NoticeDrivenSource<State>({
    api,
    notices: new HimdsNoticeClient(atPort, process.geteuid?.() ?? 0),
    service: 'extensions',
    log: (line) => log.push(line),
    waitSeconds,
    refetchMs,
    random: () => 0.5,
    onChanges: (way) => ways.push(way),
  });
  return { api, log, ways, goalStates };
}

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

void describe('goal states by notice through HIMDS', () => {
  void test('announced: no long poll is held; a notice is one fetch without after', async () => {
    const channel = {};
    board.hello(channel, ['extensions', 'guestConfiguration']);
    try {
      const { api, goalStates, ways } = source(port);
      assert.deepEqual(await goalStates.goalState(undefined), { generation: 1 });
      api.generation = 2;
      const next = goalStates.goalState(1);
      await until('the ask held at HIMDS', () => board.held('extensions') === 1);
      assert.deepEqual(api.asked, [undefined], 'nothing asked of the control plane meanwhile');
      board.changed(channel, 'extensions');
      assert.deepEqual(await next, { generation: 2 });
      assert.deepEqual(api.asked, [undefined, undefined]);
      assert.equal(goalStates.changes, 'notice');
      assert.deepEqual(ways, ['notice']);
      // A change while the fetch was under way is not lost: the next ask answers at once.
      board.changed(channel, 'extensions');
      assert.deepEqual(await goalStates.goalState(2), { generation: 2 });
      assert.deepEqual(api.asked, [undefined, undefined, undefined]);
      // Another goal state's notice wakes nothing here.
      const held = goalStates.goalState(2);
      await until('the ask held at HIMDS', () => board.held('extensions') === 1);
      board.changed(channel, 'guestConfiguration');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(api.asked.length, 3);
      board.closed(channel);
      await held;
    } finally {
      board.closed(channel);
    }
  });

  void test('not announced: it long-polls, and moves to notices once the channel announces', async () => {
    const { api, goalStates, log } = source(port);
    await goalStates.goalState(undefined);
    await goalStates.goalState(1);
    assert.deepEqual(api.asked, [undefined, 1], 'a long poll with after');
    assert.equal(goalStates.changes, 'long poll');
    assert.match(log.join('\n'), /long poll \(the agent channel does not announce it\)/);
    const channel = {};
    board.hello(channel, ['extensions']);
    try {
      // Announced after a gap: fetched once at once, for what changed in the gap.
      await goalStates.goalState(1);
      assert.deepEqual(api.asked, [undefined, 1, undefined]);
      assert.equal(goalStates.changes, 'notice');
    } finally {
      board.closed(channel);
    }
  });

  void test('a fetch that fails on a notice is fetched again, not waited out', async () => {
    const channel = {};
    board.hello(channel, ['extensions']);
    try {
      const { api, goalStates } = source(port);
      await goalStates.goalState(undefined);
      board.changed(channel, 'extensions');
      api.failNext = new Error('control plane away');
      await assert.rejects(goalStates.goalState(1), /control plane away/);
      await goalStates.goalState(1);
      assert.deepEqual(api.asked, [undefined, undefined, undefined]);
    } finally {
      board.closed(channel);
    }
  });

  void test('HIMDS away or without the endpoint: long polls, HIMDS asked again after each', async () => {
    const away = await listen(new GoalStateNotices(0));
    const awayPort = away[1];
    away[0].close();
    for (const [atPort, why] of [
      [awayPort, /HIMDS cannot be asked: .*ECONNREFUSED/],
      [olderPort, /HIMDS cannot be asked: HIMDS answered 404/],
    ] as const) {
      const { api, goalStates, log } = source(atPort);
      await goalStates.goalState(undefined);
      await goalStates.goalState(4);
      await goalStates.goalState(4);
      assert.deepEqual(api.asked, [undefined, 4, 4]);
      assert.equal(goalStates.changes, 'long poll');
      assert.match(log.join('\n'), why);
      assert.equal(log.length, 1, 'said once');
    }
  });

  void test('stopping aborts an ask held at HIMDS and frees its place', async () => {
    const channel = {};
    board.hello(channel, ['extensions']);
    try {
      const { api, goalStates } = source(port);
      await goalStates.goalState(undefined);
      const controller = new AbortController();
      const held = goalStates.goalState(1, controller.signal);
      await until('the ask held at HIMDS', () => board.held('extensions') === 1);
      controller.abort();
      await assert.rejects(held);
      await until('the place freed', () => board.held('extensions') === 0);
      assert.deepEqual(api.asked, [undefined]);
    } finally {
      board.closed(channel);
    }
  });

  void test('a wait that passes with nothing new is asked again, not fetched', async () => {
    const channel = {};
    board.hello(channel, ['extensions']);
    try {
      const { api, goalStates } = source(port, 1);
      await goalStates.goalState(undefined);
      const next = goalStates.goalState(1);
      await new Promise((resolve) => setTimeout(resolve, 2_300));
      assert.deepEqual(api.asked, [undefined]);
      board.changed(channel, 'extensions');
      await next;
      assert.deepEqual(api.asked, [undefined, undefined]);
    } finally {
      board.closed(channel);
    }
  });

  void test('a notice lost or withheld delays a change by the refetch age at most', async () => {
    const channel = {};
    board.hello(channel, ['extensions']);
    try {
      const { api, goalStates } = source(port, 60, 300);
      await goalStates.goalState(undefined);
      const started = Date.now();
      await goalStates.goalState(1);
      assert.deepEqual(api.asked, [undefined, undefined], 'fetched at once, not long-polled');
      assert.ok(Date.now() - started < 5_000);
      assert.equal(goalStates.changes, 'notice');
    } finally {
      board.closed(channel);
    }
  });

  void test("a port held by another account than HIMDS's is not asked", async () => {
    const channel = {};
    board.hello(channel, ['extensions']);
    try {
      const me = process.geteuid?.() ?? 0;
      // The kernel's socket table names the listening side's owner: here, this process.
      const seen: (number | undefined)[] = [];
      const real = new HimdsNoticeClient(port, me, (server, client) => {
        const owner = loopbackPeerUid(server, client);
        seen.push(owner);
        return owner;
      });
      assert.equal((await real.wait('extensions', undefined, 0)).announced, true);
      assert.deepEqual(seen, [me]);
      const squatted = new HimdsNoticeClient(port, 12345, () => 4242);
      await assert.rejects(
        squatted.wait('extensions', undefined, 0),
        /port \d+ is held by uid 4242, not HIMDS's account \(uid 12345\)/,
      );
    } finally {
      board.closed(channel);
    }
  });
});
