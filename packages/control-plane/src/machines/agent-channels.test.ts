// The agent channel over a real socket and a real WebSocket client, in front of the control
// plane's own dispatch: a heartbeat frame is stored and answered as the HTTP POST is; refused
// upgrades get the HTTP answer of the router; a revoked credential (at once), a removed role and
// a token past its expiry (at their next frame), a frame that is not a heartbeat and an
// oversized one each end the channel; a stop closes every channel with 1001.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AGENT_CHANNEL_CLOSE, DEFAULT_AGENT_CONFIGURATION } from '@tether/protocol';
import WebSocket from 'ws';
import { setTimeout as delay } from 'node:timers/promises';
import { GoalStateWaiters } from '../extensions/goal-state-waiters.js';
import { gcWaitersOf } from '../guest-configuration/gc-services.js';
import { TestControlPlane } from '../server/testing/test-control-plane.js';
import { testBackends } from '../store/testing/test-databases.js';
import { onboardMachine } from './testing/machine-agents.js';

const V = 'api-version=2024-07-10';
const REPORT = {
  agentVersion: '1.2',
  osName: 'linux',
  agentConfiguration: DEFAULT_AGENT_CONFIGURATION,
};

interface Opened {
  ws: WebSocket;
  /** The channel's first frame. */
  hello: Record<string, unknown>;
  /** Frames received after the hello, parsed, in order. */
  frames: Record<string, unknown>[];
  closed: Promise<{ code: number; reason: string }>;
  next(): Promise<Record<string, unknown>>;
}

for (const backend of testBackends()) {
  void describe(`agent channel (${backend.name})`, () => {
    let cp: TestControlPlane;
    let server: Server;
    let port: number;
    let owner: string;
    let group: string;
    const machines: Record<string, { token: string; principalId: string }> = {};

    const machinePath = (name: string): string =>
      `${group}/providers/Microsoft.HybridCompute/machines/${name}`;
    const channelPath = (name: string, version = V): string =>
      `${machinePath(name)}/agentChannel?${version}`;

    async function onboard(name: string): Promise<void> {
      machines[name] = await onboardMachine(cp, group, name, owner);
    }

    function open(path: string, token: string | undefined, autoPong = true): Promise<Opened> {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, {
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        autoPong,
      });
      const frames: Record<string, unknown>[] = [];
      const waiting: ((frame: Record<string, unknown>) => void)[] = [];
      let hello: (frame: Record<string, unknown>) => void;
      const said = new Promise<Record<string, unknown>>((resolve) => (hello = resolve));
      let first = true;
      ws.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
        if (first) {
          first = false;
          hello(frame);
          return;
        }
        frames.push(frame);
        waiting.shift()?.(frame);
      });
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        ws.once('close', (code: number, reason: Buffer) =>
          resolve({ code, reason: reason.toString('utf8') }),
        ),
      );
      return new Promise((resolve, reject) => {
        ws.once(
          'open',
          () =>
            void said.then((frame) =>
              resolve({
                ws,
                hello: frame,
                frames,
                closed,
                next: () => new Promise((take) => waiting.push(take)),
              }),
            ),
        );
        ws.once('error', reject);
      });
    }

    /** The answer to a refused upgrade: status and JSON body. */
    function refusal(
      path: string,
      token: string | undefined,
    ): Promise<{ status: number; body: Record<string, unknown> }> {
      return new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, {
          headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        });
        ws.once('unexpected-response', (_request, response) => {
          let text = '';
          response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          response.on('end', () => {
            ws.terminate();
            resolve({
              status: response.statusCode ?? 0,
              body: JSON.parse(text) as Record<string, unknown>,
            });
          });
        });
        ws.once('open', () => reject(new Error('the upgrade was accepted')));
        ws.once('error', () => undefined);
      });
    }

    before(async () => {
      cp = await TestControlPlane.start(backend, { agentChannelPingMs: 100 });
      owner = await cp.ownerToken();
      group = `/subscriptions/${cp.installation.subscriptionId}/resourceGroups/channel`;
      const rg = await cp.request('PUT', `${group}?api-version=2021-04-01`, {
        token: owner,
        body: { location: 'westeurope' },
      });
      assert.ok(rg.status < 300, JSON.stringify(rg.body));
      for (const name of ['ch-a', 'ch-b', 'ch-c', 'ch-d']) await onboard(name);
      server = createServer((request, response) => cp.controlPlane.serve(request, response));
      server.on('upgrade', (request, socket, head: Buffer) =>
        cp.controlPlane.upgrade(request, socket, head),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await cp.close();
    });

    void it('stores a heartbeat frame and answers it as the HTTP heartbeat does', async () => {
      const a = machines['ch-a']!;
      const channel = await open(channelPath('ch-a'), a.token);
      cp.clock.advance(60_000);
      channel.ws.send(
        JSON.stringify({ type: 'heartbeat', id: 7, body: { ...REPORT, agentVersion: '1.7' } }),
      );
      const ack = await channel.next();
      const http = await cp.request('POST', `${machinePath('ch-a')}/heartbeat?${V}`, {
        token: a.token,
        body: { ...REPORT, agentVersion: '1.7' },
      });
      assert.equal(http.status, 200);
      assert.deepEqual(ack, { type: 'ack', id: 7, status: 200, body: http.body });
      const shown = await cp.request('GET', `${machinePath('ch-a')}?${V}`, { token: owner });
      const properties = shown.body['properties'] as Record<string, unknown>;
      assert.equal(properties['status'], 'Connected');
      assert.equal(properties['agentVersion'], '1.7');
      assert.equal(properties['lastStatusChange'] !== undefined, true);
      // A report the service refuses is answered with the HTTP path's status and error.
      channel.ws.send(
        JSON.stringify({ type: 'heartbeat', id: 8, body: { localChangesJournal: 'NOT-A-UUID' } }),
      );
      const refused = await channel.next();
      const httpRefused = await cp.request('POST', `${machinePath('ch-a')}/heartbeat?${V}`, {
        token: a.token,
        body: { localChangesJournal: 'NOT-A-UUID' },
      });
      assert.equal(httpRefused.status, 400);
      assert.deepEqual(refused, {
        type: 'error',
        id: 8,
        status: 400,
        error: httpRefused.body['error'],
      });
      channel.ws.close(1000);
      assert.equal((await channel.closed).code, 1000);
    });

    void it("tells the agent of each change to its machine's goal states while open", async () => {
      await onboard('ch-n');
      const n = machines['ch-n']!;
      const machineId = machinePath('ch-n').toLowerCase();
      const extensions = GoalStateWaiters.of(cp.db);
      const guestConfiguration = gcWaitersOf(cp.db)!;
      const before = extensions.listened;
      const channel = await open(channelPath('ch-n'), n.token);
      assert.deepEqual(channel.hello, {
        type: 'hello',
        notices: ['extensions', 'guestConfiguration'],
      });
      assert.equal(extensions.listened, before + 1);
      // Another machine's change says nothing here; the channel's own machine's does.
      extensions.wake(machinePath('ch-a').toLowerCase());
      guestConfiguration.wake(machineId);
      assert.deepEqual(await channel.next(), {
        type: 'goalStateChanged',
        service: 'guestConfiguration',
      });
      extensions.wake(machineId);
      assert.deepEqual(await channel.next(), { type: 'goalStateChanged', service: 'extensions' });
      // Heartbeats still go both ways between notices.
      channel.ws.send(JSON.stringify({ type: 'heartbeat', id: 9, body: REPORT }));
      assert.equal((await channel.next())['type'], 'ack');
      assert.equal(channel.frames.length, 3);
      channel.ws.close(1000);
      await channel.closed;
      // The listener goes with the channel.
      for (let i = 0; i < 50 && extensions.listened !== before; i++) await delay(10);
      assert.equal(extensions.listened, before);
      assert.equal(guestConfiguration.listened, before);
    });

    void it('answers a refused upgrade with the HTTP answer of the same request', async () => {
      const a = machines['ch-a']!;
      const b = machines['ch-b']!;
      const cases: [string, string | undefined, number][] = [
        [channelPath('ch-a'), undefined, 401],
        [channelPath('ch-a'), 'not-a-token', 401],
        [channelPath('ch-a'), b.token, 403],
        [channelPath('ch-a', 'api-version=2019-01-01'), a.token, 400],
      ];
      for (const [path, token, status] of cases) {
        const answer = await refusal(path, token);
        const http = await cp.request('GET', path, token === undefined ? {} : { token });
        assert.equal(answer.status, status, `${path} ${JSON.stringify(answer.body)}`);
        assert.equal(http.status, status);
        assert.deepEqual(answer.body, http.body);
      }
      // Without the upgrade the route says what it is for.
      const plain = await cp.request('GET', channelPath('ch-a'), { token: a.token });
      assert.equal(plain.status, 426);
      assert.equal((plain.body['error'] as { code: string }).code, 'UpgradeRequired');
    });

    void it('closes a channel at once when its credential is revoked', async () => {
      const c = machines['ch-c']!;
      const channel = await open(channelPath('ch-c'), c.token);
      channel.ws.send(JSON.stringify({ type: 'heartbeat', id: 1, body: REPORT }));
      assert.equal((await channel.next())['type'], 'ack');
      const revoked = await cp.request('POST', `${machinePath('ch-c')}/revokeCredential?${V}`, {
        token: owner,
      });
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      // Without a frame: the revocation itself has the channel check its token.
      const closed = await channel.closed;
      assert.equal(closed.code, AGENT_CHANNEL_CLOSE.tokenRefused);
      assert.match(closed.reason, /no longer valid/);
      assert.equal(channel.frames.length, 1);
      // And a new channel with that token is refused at the upgrade.
      assert.equal((await refusal(channelPath('ch-c'), c.token)).status, 401);
    });

    void it('refuses and closes once the identity may no longer heartbeat the machine', async () => {
      const d = machines['ch-d']!;
      const channel = await open(channelPath('ch-d'), d.token);
      const assignments = await cp.db
        .selectFrom('role_assignments')
        .select(['name', 'scope'])
        .where('principal_id', '=', d.principalId)
        .execute();
      assert.ok(assignments.length > 0);
      for (const { name, scope } of assignments) {
        const removed = await cp.request(
          'DELETE',
          `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}?api-version=2022-04-01`,
          { token: owner },
        );
        assert.ok(removed.status === 200 || removed.status === 204, JSON.stringify(removed.body));
      }
      channel.ws.send(JSON.stringify({ type: 'heartbeat', id: 3, body: REPORT }));
      const refused = await channel.next();
      assert.equal(refused['status'], 403);
      assert.equal((refused['error'] as { code: string }).code, 'AuthorizationFailed');
      assert.equal((await channel.closed).code, AGENT_CHANNEL_CLOSE.forbidden);
    });

    void it('closes a channel whose token has expired at its next frame', async () => {
      await onboard('ch-e');
      const e = machines['ch-e']!;
      const channel = await open(channelPath('ch-e'), e.token);
      cp.clock.advance(2 * 3_600_000);
      channel.ws.send(JSON.stringify({ type: 'heartbeat', id: 4, body: REPORT }));
      const refused = await channel.next();
      assert.equal(refused['status'], 401);
      assert.equal((refused['error'] as { code: string }).code, 'ExpiredAuthenticationToken');
      assert.equal((await channel.closed).code, AGENT_CHANNEL_CLOSE.tokenRefused);
      owner = await cp.ownerToken();
    });

    void it('closes on a frame that is not a heartbeat, and on one over the body limit', async () => {
      await onboard('ch-f');
      const f = machines['ch-f']!;
      const bad = await open(channelPath('ch-f'), f.token);
      bad.ws.send('{"type":"heartbeat"');
      const refused = await bad.next();
      assert.deepEqual(
        { type: refused['type'], id: refused['id'], status: refused['status'] },
        { type: 'error', id: null, status: 400 },
      );
      assert.equal((await bad.closed).code, 1008);
      const big = await open(channelPath('ch-f'), f.token);
      big.ws.send(
        JSON.stringify({
          type: 'heartbeat',
          id: 1,
          body: { ...REPORT, osName: 'x'.repeat(1024 * 1024 + 100) },
        }),
      );
      assert.equal((await big.closed).code, 1009);
    });

    void it('pings quiet channels and drops one that does not answer', async () => {
      await onboard('ch-p');
      const p = machines['ch-p']!;
      const answering = await open(channelPath('ch-p'), p.token);
      const silent = await open(channelPath('ch-p'), p.token, false);
      let pings = 0;
      silent.ws.on('ping', () => pings++);
      assert.equal((await silent.closed).code, 1006, 'cut without a close frame');
      assert.ok(pings >= 1);
      assert.equal(answering.ws.readyState, WebSocket.OPEN, 'the one that answers stays');
      answering.ws.close(1000);
      await answering.closed;
    });

    void it('closes every channel with 1001 when the node stops, and takes no new one', async () => {
      await onboard('ch-g');
      const g = machines['ch-g']!;
      const channel = await open(channelPath('ch-g'), g.token);
      channel.ws.send(JSON.stringify({ type: 'heartbeat', id: 5, body: REPORT }));
      assert.equal((await channel.next())['type'], 'ack');
      cp.controlPlane.agentChannels.stop();
      assert.equal((await channel.closed).code, 1001);
      assert.equal((await refusal(channelPath('ch-g'), g.token)).status, 503);
      assert.equal(cp.controlPlane.agentChannels.size, 0);
    });
  });
}
