// The heartbeat loop with a manual clock and scheduler and a stand-in control plane: the server's
// interval, full-jitter backoff and recovery, an early heartbeat on a config change, local changes
// sent until acknowledged, clean stop.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { HeartbeatAnswer } from '../control-plane/machine-api.js';
import type { AgentState } from '../identity/agent-state.js';
import { generateMachineKey, parseMachineKey, writeMachineKey } from '../identity/machine-key.js';
import { findRetiredKey } from '../identity/retired-keys.js';
import type { Scheduler } from '../scheduler.js';
import { AgentError } from '../errors.js';
import { appendLocalChanges } from '../config/local-change-journal.js';
import { makeTempRoot, type TempRoot } from '../test-support/temp-root.js';
import { DIRECT_EGRESS } from '../network/egress.js';
import { fullJitterDelay, withRetryAfter } from './backoff.js';
import { HeartbeatLoop, type HeartbeatOptions } from './heartbeat-loop.js';
import { readServiceStatus } from './service-status.js';

const START = Date.parse('2030-01-01T00:00:00Z');
const POLICY = { baseMs: 1_000, capMs: 60_000 };

/** Tasks wait until the test runs them; running one moves the clock to its due time. */
class ManualScheduler implements Scheduler {
  readonly pending: { dueAt: number; delayMs: number; task: () => void }[] = [];
  now = START;

  schedule(delayMs: number, task: () => void): () => void {
    const entry = { dueAt: this.now + delayMs, delayMs, task };
    this.pending.push(entry);
    return () => {
      const index = this.pending.indexOf(entry);
      if (index >= 0) this.pending.splice(index, 1);
    };
  }

  /** Runs the earliest task and returns the delay it had been scheduled with. */
  runNext(): number {
    this.pending.sort((a, b) => a.dueAt - b.dueAt);
    const entry = this.pending.shift();
    if (entry === undefined) throw new Error('nothing scheduled');
    this.now = Math.max(this.now, entry.dueAt);
    entry.task();
    return entry.delayMs;
  }
}

/** Deterministic [0, 1) numbers (mulberry32), so the jitter is reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const owner = (): { uid: number; gid: number } => ({
  uid: process.getuid?.() ?? 0,
  gid: process.getgid?.() ?? 0,
});

let temp: TempRoot;
let scheduler: ManualScheduler;
let answers: (HeartbeatAnswer | Error)[];
let bodies: unknown[];
let loop: HeartbeatLoop;

function makeLoop(extra: Partial<HeartbeatOptions> = {}): HeartbeatLoop {
  const state: AgentState = {
    resourceId: '/subscriptions/s/resourceGroups/g/providers/Microsoft.HybridCompute/machines/m',
    resourceName: 'm',
    resourceGroup: 'g',
    subscriptionId: 's',
    tenantId: 't',
    location: 'westeurope',
    vmId: 'v',
    principalId: 'p',
    endpoint: 'https://control-plane.invalid',
    tags: {},
    // Far from renewal, so these tests see heartbeats only.
    credentialExpiresOn: new Date(START + 365 * 86_400_000).toISOString(),
  };
  loop = new HeartbeatLoop({
    paths: temp.paths,
    state,
    ca: undefined,
    egress: DIRECT_EGRESS,
    tokens: {
      token: () => Promise.resolve({ token: 'machine-token', expiresAt: START + 3_600_000 }),
      useKey: () => undefined,
      forget: () => undefined,
    },
    clock: { now: () => scheduler.now },
    scheduler,
    random: seeded(7),
    backoff: POLICY,
    keyOwner: owner(),
    log: () => undefined,
    api: {
      heartbeat: (_target, _token, body) => {
        bodies.push(body);
        const next = answers.shift() ?? ok(300);
        return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
      },
      rotateCredential: () => Promise.reject(new Error('no rotation expected')),
    },
    ...extra,
  });
  return loop;
}

function ok(heartbeatIntervalSeconds: number): HeartbeatAnswer {
  return {
    heartbeatIntervalSeconds,
    credentialExpiresOn: undefined,
    rotationRequested: false,
    localChangesAcknowledged: undefined,
  };
}

/** Runs the next scheduled heartbeat and waits until it has finished and scheduled the next. */
async function beat(): Promise<number> {
  const sent = bodies.length;
  const delay = scheduler.runNext();
  await until(
    'the heartbeat to finish',
    () => bodies.length > sent && scheduler.pending.length > 0,
  );
  return delay;
}

function himdsStatus(): ReturnType<typeof readServiceStatus> {
  return readServiceStatus(temp.paths.serviceStatus('himds'));
}

beforeEach(() => {
  temp = makeTempRoot();
  mkdirSync(temp.paths.himdsStatusDir, { recursive: true });
  scheduler = new ManualScheduler();
  answers = [];
  bodies = [];
});
afterEach(() => {
  loop.stop();
  temp.remove();
});

void describe('HeartbeatLoop', () => {
  void test('beats at once, then at the interval each answer from the server asks for', async () => {
    answers = [ok(120), ok(30)];
    makeLoop().start();
    assert.equal(await beat(), 0);
    assert.equal(await beat(), 120_000);
    assert.equal(scheduler.pending[0]?.delayMs, 30_000);
    assert.equal(himdsStatus()?.lastHeartbeat, new Date(START + 120_000).toISOString());
  });

  void test('AZCMAGENT_HEARTBEAT_SECONDS wins over the server', async () => {
    answers = [ok(120)];
    makeLoop({ intervalOverrideSeconds: 2 }).start();
    await beat();
    assert.equal(scheduler.pending[0]?.delayMs, 2_000);
  });

  void test('failures back off exponentially with full jitter, then recover on their own', async () => {
    const down = (): Error => new Error('connect ECONNREFUSED');
    answers = [down(), down(), down(), down(), ok(60), down()];
    makeLoop().start();
    const expected = seeded(7);
    await beat();
    const delays: number[] = [];
    for (let failures = 1; failures <= 4; failures++) {
      delays.push(scheduler.pending[0]?.delayMs ?? -1);
      assert.equal(delays.at(-1), fullJitterDelay(failures, POLICY, expected));
      assert.ok((delays.at(-1) ?? -1) < POLICY.baseMs * 2 ** failures);
      assert.match(himdsStatus()?.lastError ?? '', /ECONNREFUSED/);
      await beat();
    }
    // The jitter spreads agents out: the delays are not simply the ceilings.
    assert.notDeepEqual(delays, [2_000, 4_000, 8_000, 16_000]);
    assert.equal(scheduler.pending[0]?.delayMs, 60_000, 'recovered: the server interval again');
    assert.equal(himdsStatus()?.lastError, undefined);
    await beat();
    // The count started again: the next failure waits under the first ceiling.
    assert.ok((scheduler.pending[0]?.delayMs ?? -1) < POLICY.baseMs * 2);
  });

  void test("a 503's Retry-After is waited, spread by up to half, never past the interval", async () => {
    const busy = (retryAfter: string): Error =>
      withRetryAfter(new Error('503 ServiceUnavailable: busy'), 503, retryAfter);
    answers = [busy('20'), busy('20'), busy('3600'), withRetryAfter(new Error('500'), 500, '20')];
    makeLoop().start();
    await beat();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      delays.push(scheduler.pending[0]?.delayMs ?? -1);
      await beat();
    }
    const [first, second, long, other] = delays as [number, number, number, number];
    for (const d of [first, second]) assert.ok(d >= 20_000 && d < 30_000, String(d));
    assert.notEqual(first, second, 'spread, not all at once');
    assert.equal(long, 300_000, 'never past the heartbeat interval');
    // A 500 carries no Retry-After to honour: the 4th failure's backoff.
    assert.ok(other < POLICY.baseMs * 2 ** 4, String(other));
  });

  void test('a change to localconfig.json brings the next heartbeat forward', async () => {
    mkdirSync(temp.paths.dataDir, { recursive: true });
    makeLoop().start();
    await beat();
    assert.equal(scheduler.pending[0]?.delayMs, 300_000);
    temp.writeConfig('{}\n');
    await until('an early heartbeat', () => scheduler.pending.some((t) => t.delayMs < 1_000));
    assert.equal(scheduler.pending.length, 1, 'the early heartbeat replaces the regular one');
    await beat();
    const body = bodies.at(-1) as { agentConfiguration?: unknown };
    assert.notEqual(body.agentConfiguration, undefined, 'it reports the new configuration');
    assert.equal(scheduler.pending[0]?.delayMs, 300_000);
  });

  void test('a requested renewal swaps in a new key and keeps the old one only as retired', async () => {
    mkdirSync(dirname(temp.paths.machineKey), { recursive: true });
    const old = generateMachineKey();
    writeMachineKey(temp.paths.machineKey, old, owner());
    const sent: string[] = [];
    answers = [{ ...ok(300), rotationRequested: true }];
    makeLoop({
      api: {
        heartbeat: (_target, _token, body) => {
          bodies.push(body);
          const next = answers.shift() ?? ok(300);
          return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
        },
        rotateCredential: (_target, _token, clientPublicKey) => {
          sent.push(clientPublicKey);
          return Promise.resolve(new Date(START + 90 * 86_400_000).toISOString());
        },
      },
    }).start();
    await beat();
    await until('the renewal', () => sent.length === 1);
    await until('the new key in place', () => {
      try {
        return parseMachineKey(readFileSync(temp.paths.machineKey, 'utf8')).keyId !== old.keyId;
      } catch {
        return false;
      }
    });
    const current = parseMachineKey(readFileSync(temp.paths.machineKey, 'utf8'));
    assert.equal(current.clientPublicKey, sent[0]);
    assert.equal(findRetiredKey(temp.paths, old.keyId)?.keyId, old.keyId);
    assert.equal(findRetiredKey(temp.paths, current.keyId), undefined);
    assert.equal(statSync(temp.paths.retiredKeysDir).mode & 0o777, 0o700);
  });

  void test('stop cancels the next heartbeat, even one whose answer is still on its way', async () => {
    let answer: (value: HeartbeatAnswer) => void = () => undefined;
    makeLoop({
      api: {
        heartbeat: () => new Promise((resolve) => (answer = resolve)),
        rotateCredential: () => Promise.reject(new Error('no rotation expected')),
      },
    }).start();
    scheduler.runNext();
    await until('the heartbeat to be sent', () => scheduler.pending.length === 0);
    loop.markStopped();
    answer(ok(60));
    // The late answer is still recorded, but nothing is scheduled after it.
    await until('the late answer to be recorded', () => himdsStatus()?.lastHeartbeat !== undefined);
    assert.equal(himdsStatus()?.status, 'stopped');
    assert.equal(scheduler.pending.length, 0);
  });
});

void describe('HeartbeatLoop when the control plane refuses the machine', () => {
  void test('drops every cached token, so HIMDS stops handing them out', async () => {
    let forgotten = 0;
    answers = [
      new AgentError('ERR_CONTROL_PLANE_REFUSED', 'The control plane did not accept: 500'),
      new AgentError(
        'ERR_AUTH_FAILED',
        "The control plane refuses this machine's identity: revoked.",
      ),
    ];
    makeLoop({
      tokens: {
        token: () => Promise.resolve({ token: 'machine-token', expiresAt: START + 3_600_000 }),
        useKey: () => undefined,
        forget: () => (forgotten += 1),
      },
    }).start();
    await beat();
    assert.equal(forgotten, 0, 'a failing server is not a refusal: the tokens stay');
    await beat();
    assert.equal(forgotten, 1);
    assert.match(himdsStatus()?.lastError ?? '', /refuses this machine's identity: revoked/);
  });
});

void describe('HeartbeatLoop and the local change journal', () => {
  function journal(count: number): void {
    mkdirSync(temp.paths.dataDir, { recursive: true });
    for (let i = 1; i <= count; i += 1) {
      appendLocalChanges(
        temp.paths.localChangeJournal,
        [
          {
            time: new Date(START).toISOString(),
            uid: 0,
            property: 'extensions.allowlist',
            oldValue: '[]',
            newValue: `[Contoso.Ext/T${i}]`,
          },
        ],
        0,
        { groupId: owner().gid },
      );
    }
  }
  const sentSequences = (body: unknown): number[] =>
    ((body as { localChanges?: { sequence: number }[] }).localChanges ?? []).map((c) => c.sequence);
  /** A control plane that stores what it is sent and acknowledges the newest. */
  const acknowledging = (lost: () => boolean = () => false) => ({
    api: {
      heartbeat: (_t: unknown, _k: string, body: unknown) => {
        bodies.push(body);
        if (lost()) return Promise.reject(new Error('connection reset'));
        const newest = sentSequences(body).at(-1);
        return Promise.resolve({ ...ok(300), localChangesAcknowledged: newest });
      },
      rotateCredential: () => Promise.reject(new Error('no rotation expected')),
    },
  });

  void test('sends unacknowledged changes oldest first, 25 at a time, until all are acknowledged', async () => {
    journal(30);
    makeLoop(acknowledging()).start();
    await beat();
    assert.deepEqual(
      sentSequences(bodies[0]),
      Array.from({ length: 25 }, (_, i) => i + 1),
    );
    assert.equal(scheduler.pending[0]?.delayMs, 0, 'the rest follows at once');
    await beat();
    assert.deepEqual(sentSequences(bodies[1]), [26, 27, 28, 29, 30]);
    assert.equal(scheduler.pending[0]?.delayMs, 300_000);
    await beat();
    assert.equal('localChanges' in (bodies[2] as object), false, 'nothing is sent twice');
    assert.equal(himdsStatus()?.localChangesAcknowledged, 30);
  });

  void test('changes whose heartbeat was lost, or whose acknowledgement died with HIMDS, are sent again', async () => {
    journal(2);
    let losing = true;
    makeLoop(acknowledging(() => losing)).start();
    await beat();
    assert.deepEqual(sentSequences(bodies[0]), [1, 2]);
    losing = false;
    await beat();
    assert.deepEqual(sentSequences(bodies[1]), [1, 2], 'resent after the failure');
    assert.equal(himdsStatus()?.localChangesAcknowledged, 2);
    journal(1);
    // HIMDS stops after the control plane stored change 3 but before it wrote that down.
    const status = readFileSync(temp.paths.serviceStatus('himds'), 'utf8');
    await beat();
    assert.deepEqual(sentSequences(bodies[2]), [3]);
    loop.stop();
    writeFileSync(temp.paths.serviceStatus('himds'), status);
    scheduler.pending.length = 0;
    makeLoop(acknowledging()).start();
    await beat();
    assert.deepEqual(sentSequences(bodies[3]), [3], 'the restarted HIMDS starts after 2');
  });

  void test('an acknowledgement beyond what was sent does not skip changes', async () => {
    journal(2);
    makeLoop({
      api: {
        heartbeat: (_t, _k, body) => {
          bodies.push(body);
          return Promise.resolve({ ...ok(300), localChangesAcknowledged: 1000 });
        },
        rotateCredential: () => Promise.reject(new Error('no rotation expected')),
      },
    }).start();
    await beat();
    assert.equal(himdsStatus()?.localChangesAcknowledged, 2);
  });

  void test('a journal deleted and started again is sent from its first change, with its new id', async () => {
    journal(3);
    makeLoop(acknowledging()).start();
    await beat();
    const first = (bodies[0] as { localChangesJournal?: string }).localChangesJournal ?? '';
    assert.match(first, /^[0-9a-f-]{36}$/);
    assert.equal(himdsStatus()?.localChangesAcknowledged, 3);
    assert.equal(himdsStatus()?.localChangesJournal, first);
    rmSync(temp.paths.localChangeJournal);
    journal(1);
    await beat();
    assert.deepEqual(sentSequences(bodies[1]), [1], 'not taken as acknowledged by the old 3');
    const second = (bodies[1] as { localChangesJournal?: string }).localChangesJournal;
    assert.notEqual(second, first);
    assert.equal(himdsStatus()?.localChangesAcknowledged, 1);
    assert.equal(himdsStatus()?.localChangesJournal, second);
  });
});
