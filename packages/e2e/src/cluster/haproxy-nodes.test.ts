// The documented scale-out: three real `tether server` nodes over one PostgreSQL database behind
// HAProxy, and a real agent connected through it. An extension written through the API
// completes; the node holding the agent's connections is killed (-9) and the agent keeps
// sending heartbeats and receives the next extension request through another node; the leader
// killed with -9 hands the periodic jobs to another node; a node stopped with SIGTERM hands its
// agents on the same way, and is gone within its shutdown, not its 10-second cut-off.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  controlPlaneNodesUnavailable,
  startControlPlaneNodes,
  type ControlPlaneNodes,
} from '../harness/index.js';
import {
  CUSTOM_SCRIPT,
  customScriptHandlerVersion,
  startExtensionFixture,
  waitFor,
  type ExtensionFixture,
} from '../extensions/extension-fixture.js';

const unavailable = controlPlaneNodesUnavailable();
const LEADS = 'this node now runs the periodic jobs';
const LOST = 'lost the database change notifications';

void describe('three nodes behind HAProxy', { skip: unavailable ?? false }, () => {
  let cluster: ControlPlaneNodes;
  let fx: ExtensionFixture;
  let database: pg.Client;
  /** Nodes not yet killed or stopped. */
  const alive = new Set([0, 1, 2]);

  before(async () => {
    cluster = await startControlPlaneNodes(3, ['--heartbeat-interval', '2s']);
    fx = await startExtensionFixture({ plane: cluster.plane, machine: 'ha-01' });
    database = new pg.Client({ connectionString: cluster.databaseUrl });
    await database.connect();
  });
  after(async () => {
    await database?.end();
    await fx?.stop();
  });

  /** The newest heartbeat on record: in the agent rows, or still in the liveness log. */
  const lastHeartbeat = async (): Promise<string> => {
    const result = await database.query<{ at: string | null }>(
      `SELECT greatest((SELECT max(last_heartbeat_at) FROM machine_agents),
                       (SELECT max(at) FROM liveness_log))::text AS at`,
    );
    return result.rows[0]?.at ?? '';
  };

  /** Writes the one CustomScript extension with a new command: a new request each time. */
  const deploy = async (message: string) => {
    const deployed = await fx.deploy('hello', {
      ...CUSTOM_SCRIPT,
      typeHandlerVersion: customScriptHandlerVersion(),
      settings: { commandToExecute: `echo ${message}` },
    });
    assert.ok(deployed.ok, `${JSON.stringify(deployed.error)}\n${cluster.plane.logs()}`);
    assert.equal(deployed.result?.properties?.provisioningState, 'Succeeded');
    assert.match(
      deployed.result?.properties?.instanceView?.status?.message ?? '',
      new RegExp(message),
    );
  };

  /** The live node serving most requests now: the one holding the agent's long poll. */
  const busiestNode = async (alive: ReadonlySet<number>): Promise<number> => {
    const found = await waitFor('a node holding the agent’s long poll', async () => {
      const sessions = await cluster.connectionsPerNode();
      let best = -1;
      for (const [i, count] of sessions.entries()) {
        if (alive.has(i) && count > 0 && (best === -1 || count > (sessions[best] ?? 0))) best = i;
      }
      return best === -1 ? undefined : best;
    });
    return found;
  };

  void it('an extension completes, then survives kill -9 of the node serving the agent', async () => {
    await deploy('before-the-kill');
    const victim = await busiestNode(alive);
    await cluster.nodes[victim]!.kill();
    alive.delete(victim);

    const before = await lastHeartbeat();
    await waitFor('a heartbeat through another node', async () =>
      (await lastHeartbeat()) > before ? true : undefined,
    );
    await deploy('after-the-kill');
  });

  /** Live nodes that took the leader lock and have not lost their connection since. */
  const leaders = (): number[] =>
    [...alive].filter((i) => {
      const logs = cluster.nodes[i]!.logs();
      return logs.includes(LEADS) && !logs.includes(LOST);
    });

  void it('the leader killed with -9 hands the periodic jobs to another node', async () => {
    // Three nodes again: the one killed before starts anew.
    for (const i of [0, 1, 2].filter((n) => !alive.has(n))) {
      await cluster.startNode(i);
      alive.add(i);
    }
    const [leader] = await waitFor('one node leading', () => {
      const found = leaders();
      return found.length === 1 ? found : undefined;
    });
    await cluster.nodes[leader!]!.kill();
    alive.delete(leader!);
    const [next] = await waitFor('another node leading', () => {
      const found = leaders();
      return found.length === 1 ? found : undefined;
    });
    assert.notEqual(next, leader);
    await cluster.startNode(leader!);
    alive.add(leader!);
  });

  void it('a node stopped with SIGTERM lets its agent go at once, and the agent carries on', async () => {
    const victim = await busiestNode(alive);
    alive.delete(victim);
    await cluster.nodes[victim]!.stop();
    // Its held long polls were answered and its connections closed, so it stopped at once:
    // the cut-off that closes connections still open after 10 s never came.
    assert.doesNotMatch(cluster.nodes[victim]!.logs(), /cut-off/);
    const before = await lastHeartbeat();
    await waitFor('a heartbeat through the last node', async () =>
      (await lastHeartbeat()) > before ? true : undefined,
    );
    await deploy('after-the-stop');
  });
});
