// Goal-state notices on the agent channel against a real TLS WebSocket server: the hello and the
// change notices move HIMDS's board, a channel the control plane closes is opened again without
// a heartbeat while it announces (with a new token after a 4401), a new token's channel opens
// before the old one closes so no change can fall between them, and a control plane that no
// longer has the channel leaves the services to their long polls.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import { after, before, beforeEach, describe, test } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { GoalStateNotices } from '../himds/goal-state-notices.js';
import { channelTestTarget, POSTED } from '../test-support/channel-target.js';
import { makeTestTls, type TestTls } from '../test-support/test-tls.js';
import { HeartbeatChannel } from './heartbeat-channel.js';
import type { MachineTarget } from './machine-api.js';

let tls: TestTls;
let server: Server;
let wss: WebSocketServer;
let target: MachineTarget;
let refuseWith: number | undefined;
/** The first frame sent on each channel; undefined sends none (an older control plane). */
let hello: object | undefined;
const sockets: WebSocket[] = [];
const upgrades: string[] = [];
const events: string[] = [];

before(() => {
  tls = makeTestTls();
  server = createServer({ cert: tls.serverCert, key: tls.serverKey });
  wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (request, socket, head) => {
    const authorization = request.headers.authorization ?? '';
    upgrades.push(authorization);
    if (refuseWith !== undefined) {
      socket.end(`HTTP/1.1 ${refuseWith} No\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      sockets.push(ws);
      events.push(`open ${authorization}`);
      if (hello !== undefined) ws.send(JSON.stringify(hello));
      ws.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString('utf8')) as { id: number };
        ws.send(JSON.stringify({ type: 'ack', id: frame.id, status: 200, body: {} }));
      });
      ws.on('close', (code: number) => events.push(`close ${authorization} ${code}`));
    });
  });
  return new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

after(() => {
  for (const ws of wss.clients) ws.terminate();
  wss.close();
  server.closeAllConnections();
  server.close();
});

beforeEach(() => {
  refuseWith = undefined;
  hello = { type: 'hello', notices: ['extensions', 'guestConfiguration'] };
  sockets.length = 0;
  upgrades.length = 0;
  events.length = 0;
  target = channelTestTarget(server, tls);
});

function channel() {
  const log: string[] = [];
  const notices = new GoalStateNotices(0);
  const token = { current: 'token-1' };
  const heartbeats = new HeartbeatChannel({
    clock: { now: () => Date.now() },
    random: () => 0.5,
    log: (line) => log.push(line),
    post: () => Promise.resolve(POSTED),
    notices,
    current: () => Promise.resolve({ target, token: token.current }),
    reopen: { minMs: 20, policy: { baseMs: 20, capMs: 80 } },
  });
  return { heartbeats, log, notices, token };
}

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

void describe('goal-state notices over the agent channel', () => {
  void test("a hello announces, each notice moves only its goal state's sequence", async () => {
    const { heartbeats, notices } = channel();
    assert.deepEqual(notices.state('extensions'), { announced: false, sequence: 0 });
    await heartbeats.heartbeat(target, 'token-1', {});
    await until('the hello', () => notices.state('extensions').announced);
    // Announced after none announced: whatever changed before is fetched once.
    assert.deepEqual(notices.state('extensions'), { announced: true, sequence: 1 });
    assert.deepEqual(notices.state('guestConfiguration'), { announced: true, sequence: 1 });
    assert.equal(heartbeats.announcing, true);
    const ws = sockets[0] as WebSocket;
    ws.send(JSON.stringify({ type: 'goalStateChanged', service: 'extensions' }));
    ws.send(JSON.stringify({ type: 'goalStateChanged', service: 'somethingElse' }));
    ws.send(JSON.stringify({ type: 'somethingNew', service: 'guestConfiguration' }));
    ws.send(JSON.stringify({ type: 'goalStateChanged', service: 'extensions' }));
    await until('two notices', () => notices.state('extensions').sequence === 3);
    assert.deepEqual(notices.state('guestConfiguration'), { announced: true, sequence: 1 });
    // Heartbeats still work beside the notices.
    assert.deepEqual(heartbeats.sent, { channel: 1, post: 0 });
    heartbeats.close();
    await until('the close', () => !notices.state('extensions').announced);
    assert.equal(notices.state('extensions').sequence, 3);
  });

  void test('a hello naming only one goal state announces only that one', async () => {
    hello = { type: 'hello', notices: ['guestConfiguration', 'unknown'] };
    const { heartbeats, notices } = channel();
    await heartbeats.heartbeat(target, 'token-1', {});
    await until('the hello', () => notices.state('guestConfiguration').announced);
    assert.deepEqual(notices.state('extensions'), { announced: false, sequence: 0 });
    heartbeats.close();
  });

  void test('closed by the control plane (1001), it is opened again without a heartbeat, and the gap counts as a change', async () => {
    const { heartbeats, notices, log } = channel();
    await heartbeats.heartbeat(target, 'token-1', {});
    await until('the hello', () => notices.state('extensions').announced);
    (sockets[0] as WebSocket).close(1001, 'node stopping');
    await until('the reopened channel', () => upgrades.length === 2);
    await until('the second hello', () => notices.state('extensions').sequence === 2);
    assert.equal(notices.state('extensions').announced, true);
    assert.match(log.join('\n'), /closed \(1001 node stopping\); goal-state notices need it/);
    // The next heartbeat uses the reopened channel.
    await heartbeats.heartbeat(target, 'token-1', {});
    assert.equal(upgrades.length, 2);
    heartbeats.close();
  });

  void test('closed with 4401, it is reopened with the token the machine holds now', async () => {
    const { heartbeats, notices, token } = channel();
    await heartbeats.heartbeat(target, 'token-1', {});
    await until('the hello', () => notices.state('extensions').announced);
    // Renewed meanwhile (an expired token is renewed before it is handed out).
    token.current = 'token-2';
    (sockets[0] as WebSocket).close(4401, 'token expired');
    await until('the reopened channel', () => upgrades.length === 2);
    assert.deepEqual(upgrades, ['Bearer token-1', 'Bearer token-2']);
    heartbeats.close();
  });

  void test("a new token's channel opens before the old one closes: no gap, no extra change", async () => {
    const { heartbeats, notices } = channel();
    await heartbeats.heartbeat(target, 'token-5a', {});
    await until('the hello', () => notices.state('extensions').sequence === 1);
    await heartbeats.heartbeat(target, 'token-5b', {});
    const mine = (): string[] => events.filter((event) => event.includes('token-5'));
    await until('the old close', () => mine().length === 3);
    assert.deepEqual(mine(), [
      'open Bearer token-5a',
      'open Bearer token-5b',
      'close Bearer token-5a 1000',
    ]);
    assert.deepEqual(notices.state('extensions'), { announced: true, sequence: 1 });
    heartbeats.close();
  });

  void test('a control plane that now refuses the channel (404) leaves the services to long polls', async () => {
    const { heartbeats, notices, log } = channel();
    await heartbeats.heartbeat(target, 'token-1', {});
    await until('the hello', () => notices.state('extensions').announced);
    refuseWith = 404;
    (sockets[0] as WebSocket).close(1001, 'node stopping');
    await until('the refusal', () => /cannot be opened again/.test(log.join('\n')));
    assert.equal(notices.state('extensions').announced, false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(upgrades.length, 2, 'no further attempts between heartbeats');
    heartbeats.close();
  });

  void test('a control plane that is away is tried again with growing delays until it answers', async () => {
    const { heartbeats, notices } = channel();
    await heartbeats.heartbeat(target, 'token-1', {});
    await until('the hello', () => notices.state('extensions').announced);
    refuseWith = 503;
    (sockets[0] as WebSocket).close(1001, 'node stopping');
    await until('three refused attempts', () => upgrades.length >= 4);
    refuseWith = undefined;
    await until('announced again', () => notices.state('extensions').announced);
    assert.equal(notices.state('extensions').sequence, 2);
    heartbeats.close();
  });

  void test('an older control plane (no hello) announces nothing and the channel is not kept', async () => {
    hello = undefined;
    const { heartbeats, notices } = channel();
    await heartbeats.heartbeat(target, 'token-1', {});
    (sockets[0] as WebSocket).close(1001, 'node stopping');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(upgrades.length, 1);
    assert.equal(notices.state('extensions').announced, false);
    heartbeats.close();
  });
});
