// The frame handling of one agent channel, with the heartbeat service, authenticator and
// authorizer stood in: which frames are answered how, the rate past which a channel is closed,
// and a stop that waits for the heartbeats being stored before it closes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STORE_BUSY_RETRY_AFTER_SECONDS } from '../api/build-app.js';
import type { Caller } from '../api/caller.js';
import type { RouteDependencies, RouteSpec } from '../api/route-spec.js';
import { ManualClock } from '../clock.js';
import { StoreBusyError } from '../store/store-unavailable.js';
import { AgentChannelSession, type AgentChannelContext } from './agent-channel-session.js';
import type { HeartbeatService } from './heartbeat-service.js';

const MACHINE = '/subscriptions/s/resourcegroups/rg/providers/microsoft.hybridcompute/machines/m';
const CALLER: Caller = {
  principalId: 'p',
  principalType: 'ServicePrincipal',
  name: 'p',
  claims: {},
};

function world(options: { allowed?: boolean; answer?: () => Promise<unknown> } = {}) {
  const clock = new ManualClock();
  const sent: Record<string, unknown>[] = [];
  const closes: { code: number; reason: string }[] = [];
  const route = {
    method: 'POST',
    url: '/x',
    access: { kind: 'action', action: 'heartbeat/action', scope: () => MACHINE },
    handler: () => undefined,
  } as unknown as RouteSpec;
  const deps = {
    authenticator: { authenticate: () => Promise.resolve(CALLER), known: () => CALLER },
    authorizer: { isAllowed: () => options.allowed ?? true },
    activityLog: { record: () => Promise.resolve(), recordWith: () => Promise.resolve() },
  } as unknown as RouteDependencies;
  const service = {
    answer: options.answer ?? (() => Promise.resolve({ heartbeatIntervalSeconds: 300 })),
  } as unknown as HeartbeatService;
  const context: AgentChannelContext = {
    route,
    service,
    deps,
    available: () => true,
    clock,
    log: { warn: () => undefined, error: () => undefined },
    rate: { burst: 3, perSecond: 1 },
  };
  const session = new AgentChannelSession(
    context,
    {
      send: (text) => sent.push(JSON.parse(text) as Record<string, unknown>),
      close: (code, reason) => closes.push({ code, reason }),
    },
    'Bearer t',
    MACHINE,
    () => '10.0.0.1',
  );
  return { clock, sent, closes, session };
}

const beat = (id: number): string => JSON.stringify({ type: 'heartbeat', id, body: {} });

void describe('agent channel frames', () => {
  void it('acks each heartbeat with its id and the service answer', async () => {
    const { session, sent, closes } = world();
    await session.receive(beat(1));
    await session.receive(beat(2));
    assert.deepEqual(sent, [
      { type: 'ack', id: 1, status: 200, body: { heartbeatIntervalSeconds: 300 } },
      { type: 'ack', id: 2, status: 200, body: { heartbeatIntervalSeconds: 300 } },
    ]);
    assert.deepEqual(closes, []);
  });

  void it('refuses frames that are not heartbeats with 400 and closes (1008)', async () => {
    const cases: [string, number | null][] = [
      ['not json', null],
      ['[1]', null],
      ['{"type":"heartbeat","id":-1,"body":{}}', null],
      ['{"type":"heartbeat","id":1.5,"body":{}}', null],
      ['{"type":"ping","id":4,"body":{}}', 4],
      ['{"type":"heartbeat","id":5}', 5],
      ['{"type":"heartbeat","id":6,"body":{"__proto__":{}}}', null],
    ];
    for (const [text, id] of cases) {
      const { session, sent, closes } = world();
      await session.receive(text);
      assert.equal(sent.length, 1, text);
      assert.equal(sent[0]?.['type'], 'error');
      assert.equal(sent[0]?.['id'], id, text);
      assert.equal(sent[0]?.['status'], 400);
      assert.deepEqual(
        closes.map((c) => c.code),
        [1008],
        text,
      );
      // Nothing more is answered once closed.
      await session.receive(beat(9));
      assert.equal(sent.length, 1);
    }
  });

  void it('closes a channel sending past its rate, and lets one within it go on', async () => {
    const { session, sent, closes, clock } = world();
    for (let i = 0; i < 3; i++) await session.receive(beat(i));
    clock.advance(1_000);
    await session.receive(beat(3));
    assert.equal(closes.length, 0);
    await session.receive(beat(4));
    assert.equal(closes[0]?.code, 1008);
    assert.match(closes[0]?.reason ?? '', /more than 1 heartbeats a second/);
    assert.equal(sent.length, 4);
  });

  void it('answers 403 and closes when the action is no longer allowed', async () => {
    const { session, sent, closes } = world({ allowed: false });
    await session.receive(beat(1));
    assert.equal(sent[0]?.['status'], 403);
    assert.equal(closes[0]?.code, 4403);
    assert.ok(Buffer.byteLength(closes[0]?.reason ?? '') <= 123);
  });

  void it("says a 503's Retry-After in the error frame, as the POST says it in its header", async () => {
    const busy = new StoreBusyError(10, 5000, { cause: new Error('timeout exceeded') });
    const { session, sent, closes } = world({ answer: () => Promise.reject(busy) });
    await session.receive(beat(7));
    const frame = sent[0] ?? {};
    assert.equal(frame['status'], 503);
    assert.equal(frame['id'], 7);
    const seconds = Number(frame['retryAfter']);
    assert.ok(
      seconds >= STORE_BUSY_RETRY_AFTER_SECONDS.min &&
        seconds <= STORE_BUSY_RETRY_AFTER_SECONDS.max,
      `retryAfter ${String(frame['retryAfter'])}`,
    );
    assert.deepEqual(closes, [], 'a busy node keeps the channel');
    // An answer without one (a refused frame) carries none.
    const other = world({ allowed: false });
    await other.session.receive(beat(1));
    assert.equal('retryAfter' in (other.sent[0] ?? {}), false);
  });

  void it('on stop, answers the heartbeat being stored, then closes; later frames are not taken', async () => {
    let release: (value: unknown) => void = () => undefined;
    const { session, sent, closes } = world({
      answer: () => new Promise((resolve) => (release = resolve)),
    });
    const storing = session.receive(beat(1));
    session.stop(1001, 'stopping');
    assert.equal(closes.length, 0);
    await session.receive(beat(2));
    release({ heartbeatIntervalSeconds: 60 });
    await storing;
    assert.deepEqual(sent, [
      { type: 'ack', id: 1, status: 200, body: { heartbeatIntervalSeconds: 60 } },
    ]);
    assert.deepEqual(closes, [{ code: 1001, reason: 'stopping' }]);
  });
});
