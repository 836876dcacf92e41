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
import { ArmError } from '../api/arm-error.js';
import type { LocalChange } from '@tether/protocol';
import {
  AgentChannelSession,
  type AgentChannelContext,
  type FrameRate,
} from './agent-channel-session.js';
import type { HeartbeatService, ReadHeartbeat } from './heartbeat-service.js';
import { Authorizer } from '../rbac/authorizer.js';
import { TETHER_CONNECTED_MACHINE_ROLE_ID } from '../rbac/built-in-roles.js';
import type { AuthorizationEngine } from '../rbac/types.js';

const MACHINE = '/subscriptions/s/resourcegroups/rg/providers/microsoft.hybridcompute/machines/m';
const CALLER: Caller = {
  principalId: 'p',
  principalType: 'ServicePrincipal',
  name: 'p',
  claims: {},
};

function world(
  options: {
    allowed?: boolean;
    answer?: () => Promise<unknown>;
    rate?: FrameRate;
    authorizer?: Pick<AuthorizationEngine, 'isAllowed' | 'version'>;
  } = {},
) {
  const clock = new ManualClock();
  const sent: Record<string, unknown>[] = [];
  const closes: { code: number; reason: string }[] = [];
  const route = {
    method: 'POST',
    url: '/x',
    access: {
      kind: 'action',
      action: 'Microsoft.HybridCompute/machines/heartbeat/action',
      scope: () => MACHINE,
    },
    handler: () => undefined,
  } as unknown as RouteSpec;
  const deps = {
    authenticator: { authenticate: () => Promise.resolve(CALLER), known: () => CALLER },
    authorizer: options.authorizer ?? { isAllowed: () => options.allowed ?? true },
    activityLog: { record: () => Promise.resolve(), recordWith: () => Promise.resolve() },
  } as unknown as RouteDependencies;
  /** Every body the service was asked to read. */
  const reads: unknown[] = [];
  const answer = options.answer ?? (() => Promise.resolve({ heartbeatIntervalSeconds: 300 }));
  const service = {
    read: (body: unknown): ReadHeartbeat => {
      reads.push(body);
      const object = body as { bad?: unknown; localChanges?: LocalChange[] };
      if (object.bad !== undefined) throw new ArmError('InvalidRequestContent', 'bad body');
      return {
        reportJson: JSON.stringify(body),
        reportHash: JSON.stringify(body),
        switchedOff: false,
        localChanges: { journal: '', changes: object.localChanges ?? [] },
      };
    },
    store: (_call: unknown, read: ReadHeartbeat) => {
      stored.push(read);
      return answer();
    },
  } as unknown as HeartbeatService;
  const stored: ReadHeartbeat[] = [];
  const context: AgentChannelContext = {
    route,
    service,
    deps,
    available: () => true,
    clock,
    log: { warn: () => undefined, error: () => undefined },
    rate: options.rate ?? { burst: 3, perSecond: 1 },
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
  return { clock, sent, closes, session, reads, stored };
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

  void it('reads a body once while the agent sends the same text, and any other body again', async () => {
    const { session, sent, reads, stored } = world({ rate: { burst: 100, perSecond: 1 } });
    const frame = (id: number, body: string): string =>
      `{"type":"heartbeat","id":${id},"body":${body}}`;
    await session.receive(frame(1, '{"v":1}'));
    await session.receive(frame(2, '{"v":1}'));
    await session.receive(frame(30, '{"v":1}'));
    assert.deepEqual(reads, [{ v: 1 }], 'the same text is not read again');
    assert.equal(stored.length, 3, 'but stored every time');
    assert.deepEqual(
      sent.map((f) => f['id']),
      [1, 2, 30],
    );
    // Another text, even of the same value, is read; so is the first one when it comes back.
    await session.receive(frame(4, '{"v": 1}'));
    await session.receive(frame(5, '{"v":1}'));
    assert.equal(reads.length, 3);
    // A body that is refused is not kept: the same text is read, and refused, again.
    await session.receive(frame(6, '{"bad":1}'));
    await session.receive(frame(7, '{"bad":1}'));
    assert.equal(reads.length, 5);
    assert.deepEqual(
      sent.slice(-2).map((f) => [f['id'], f['status']]),
      [
        [6, 400],
        [7, 400],
      ],
    );
    // Nor is one that carries local changes: each is stored as read from its own frame.
    const changes = '{"localChanges":[{"id":1}]}';
    await session.receive(frame(8, changes));
    await session.receive(frame(9, changes));
    assert.equal(reads.length, 7);
    // The envelope in another spelling is read in full, as before.
    await session.receive('{"id":10,"type":"heartbeat","body":{"v":1}}');
    await session.receive('{"type":"heartbeat", "id":11, "body":{"v":1}}');
    assert.equal(reads.length, 9);
    assert.deepEqual(
      sent.slice(-2).map((f) => [f['id'], f['status']]),
      [
        [10, 200],
        [11, 200],
      ],
    );
  });

  void it('takes the id and body of a frame with repeated keys as JSON.parse does', async () => {
    const { session, sent, reads, closes } = world({ rate: { burst: 100, perSecond: 1 } });
    await session.receive('{"type":"heartbeat","id":1,"body":{"v":1}}');
    // The text after the envelope is not one value: the frame is read in full, its last id wins.
    await session.receive('{"type":"heartbeat","id":2,"body":{"v":1},"id":3}');
    await session.receive('{"type":"heartbeat","id":4,"body":{"v":1},"body":{"v":2}}');
    assert.deepEqual(
      sent.map((f) => f['id']),
      [1, 3, 4],
    );
    assert.deepEqual(reads, [{ v: 1 }, { v: 1 }, { v: 2 }]);
    // A key the router refuses is refused inside a split body too.
    await session.receive('{"type":"heartbeat","id":5,"body":{"constructor":{"prototype":{}}}}');
    assert.equal(sent.at(-1)?.['status'], 400);
    assert.equal(sent.at(-1)?.['id'], null);
    assert.deepEqual(
      closes.map((c) => c.code),
      [1008],
    );
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

  void it('asks the authorizer again only once its version moved, and closes when it then refuses', async () => {
    const engine = new Authorizer();
    const put = (): void =>
      engine.putRoleAssignment({
        name: 'a1',
        principalId: CALLER.principalId,
        principalType: 'ServicePrincipal',
        roleDefinitionName: TETHER_CONNECTED_MACHINE_ROLE_ID,
        scope: MACHINE,
      });
    put();
    let asked = 0;
    const counting = {
      get version() {
        return engine.version;
      },
      isAllowed: (principalId: string, action: string, scope: string) => {
        asked++;
        return engine.isAllowed(principalId, action, scope);
      },
    };
    const { session, sent, closes } = world({
      authorizer: counting,
      rate: { burst: 9, perSecond: 1 },
    });
    await session.receive(beat(1));
    await session.receive(beat(2));
    assert.equal(asked, 1);
    // Any change at all moves the version: asked again, still allowed.
    engine.putPrincipal('someone-else', 'User');
    await session.receive(beat(3));
    assert.equal(asked, 2);
    assert.deepEqual(
      sent.map((frame) => frame['status']),
      [200, 200, 200],
    );
    engine.removeRoleAssignment('a1');
    await session.receive(beat(4));
    assert.equal(asked, 3);
    assert.equal(sent[3]?.['status'], 403);
    assert.equal(closes[0]?.code, 4403);
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
