// The agent's side of the agent channel against a real TLS WebSocket server verified with a
// saved CA: heartbeats answered by frames and read as the POST's answers are, one channel kept
// between heartbeats and a new one for a new token, and the POST for a heartbeat the channel
// cannot carry — with the channel tried again only after a backoff when the POST is answered,
// and at the next heartbeat when the POST fails too.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import { after, before, beforeEach, describe, test } from 'node:test';
import { isTetherError } from '@tether/protocol';
import { WebSocketServer, type WebSocket } from 'ws';
import { retryAfterOf } from '../himds/backoff.js';
import { channelTestTarget, POSTED } from '../test-support/channel-target.js';
import { makeTestTls, type TestTls } from '../test-support/test-tls.js';
import { HeartbeatChannel } from './heartbeat-channel.js';
import type { HeartbeatAnswer, MachineTarget } from './machine-api.js';

let tls: TestTls;
let server: Server;
let target: MachineTarget;
/** How the server answers the next upgrades: accept, or refuse with this status. */
let refuseWith: number | undefined;
/** What the server answers a frame with, from its parsed frame. */
let answer: (frame: { id: number; body: unknown }) => object;
const upgrades: { authorization: string | undefined }[] = [];
const closes: number[] = [];
let now = 1_000_000;

before(() => {
  tls = makeTestTls();
  server = createServer({ cert: tls.serverCert, key: tls.serverKey });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (request, socket, head) => {
    upgrades.push({ authorization: request.headers.authorization });
    if (refuseWith !== undefined) {
      socket.end(`HTTP/1.1 ${refuseWith} No\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      ws.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString('utf8')) as { id: number; body: unknown };
        ws.send(JSON.stringify(answer(frame)));
      });
      ws.on('close', (code: number) => closes.push(code));
    });
  });
  return new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

after(() => {
  server.closeAllConnections();
  server.close();
});

beforeEach(() => {
  refuseWith = undefined;
  answer = (frame) => ({
    type: 'ack',
    id: frame.id,
    status: 200,
    body: { heartbeatIntervalSeconds: 60, credential: { expiresOn: 'x', rotationRequested: true } },
  });
  upgrades.length = 0;
  closes.length = 0;
  target = channelTestTarget(server, tls);
});

function channel(post: () => Promise<HeartbeatAnswer> = () => Promise.resolve(POSTED)) {
  const log: string[] = [];
  const posts = { count: 0 };
  const heartbeats = new HeartbeatChannel({
    clock: { now: () => now },
    random: () => 0.5,
    log: (line) => log.push(line),
    post: () => {
      posts.count++;
      return post();
    },
  });
  return { heartbeats, log, posts };
}

void describe('heartbeats over the agent channel', () => {
  void test('are answered by frames, over one channel kept between heartbeats', async () => {
    const { heartbeats, posts } = channel();
    const first = await heartbeats.heartbeat(target, 'token-1', { agentVersion: '1' });
    const second = await heartbeats.heartbeat(target, 'token-1', { agentVersion: '1' });
    assert.deepEqual(first, {
      heartbeatIntervalSeconds: 60,
      credentialExpiresOn: 'x',
      rotationRequested: true,
      localChangesAcknowledged: undefined,
    });
    assert.deepEqual(second, first);
    assert.deepEqual(upgrades, [{ authorization: 'Bearer token-1' }]);
    assert.equal(posts.count, 0);
    assert.deepEqual(heartbeats.sent, { channel: 2, post: 0 });
    // A new token opens a new channel, and the old one is closed.
    await heartbeats.heartbeat(target, 'token-2', {});
    assert.deepEqual(
      upgrades.map((u) => u.authorization),
      ['Bearer token-1', 'Bearer token-2'],
    );
    while (closes.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(closes, [1000]);
    heartbeats.close();
  });

  void test("an error frame is read as the POST's answer with that status", async () => {
    answer = (frame) => ({
      type: 'error',
      id: frame.id,
      status: 401,
      error: { code: 'InvalidAuthenticationToken', message: 'revoked' },
    });
    const { heartbeats, posts } = channel();
    await assert.rejects(
      heartbeats.heartbeat(target, 'token-1', {}),
      (error: unknown) =>
        isTetherError(error) && error.code === 'ERR_AUTH_FAILED' && /revoked/.test(error.message),
    );
    assert.equal(posts.count, 0, 'a refusal on the channel is not sent again by POST');
    heartbeats.close();
  });

  void test("a 503 error frame's Retry-After travels with the refusal, as the POST's header does", async () => {
    answer = (frame) => ({
      type: 'error',
      id: frame.id,
      status: 503,
      error: { code: 'ServiceUnavailable', message: 'busy' },
      retryAfter: '4',
    });
    const { heartbeats, posts } = channel();
    await assert.rejects(heartbeats.heartbeat(target, 'token-1', {}), (error: unknown) => {
      assert.ok(isTetherError(error));
      assert.equal(error.code, 'ERR_CONTROL_PLANE_REFUSED');
      assert.equal(retryAfterOf(error), '4');
      return true;
    });
    assert.equal(posts.count, 0);
    heartbeats.close();
  });

  void test('a refused upgrade sends the heartbeat by POST, and the channel waits out its backoff', async () => {
    refuseWith = 426;
    const { heartbeats, posts, log } = channel();
    assert.deepEqual(await heartbeats.heartbeat(target, 'token-1', {}), POSTED);
    assert.equal(posts.count, 1);
    assert.match(log.join('\n'), /agent channel unavailable \(the upgrade was answered 426\)/);
    // Within the backoff (at most 2 minutes after one failure; 1 minute with random 0.5):
    refuseWith = undefined;
    await heartbeats.heartbeat(target, 'token-1', {});
    assert.equal(upgrades.length, 1, 'no new upgrade within the backoff');
    assert.equal(posts.count, 2);
    now += 61_000;
    await heartbeats.heartbeat(target, 'token-1', {});
    assert.equal(upgrades.length, 2);
    assert.equal(posts.count, 2, 'back on the channel');
    heartbeats.close();
  });

  void test('when the POST fails too, the error is the POST’s and the channel is tried next time', async () => {
    refuseWith = 503;
    const away = new Error('control plane away');
    const { heartbeats } = channel(() => Promise.reject(away));
    await assert.rejects(heartbeats.heartbeat(target, 't', {}), (error) => error === away);
    refuseWith = undefined;
    await heartbeats.heartbeat(target, 't', {});
    assert.equal(upgrades.length, 2);
    assert.deepEqual(heartbeats.sent, { channel: 1, post: 0 });
    heartbeats.close();
  });
});
