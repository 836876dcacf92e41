// PostgreSQL stopped under two nodes behind HAProxy: every request is answered 503 with
// Retry-After and an ARM error body, by the nodes themselves and by HAProxy once no node is
// ready; the nodes keep running, and serve again by themselves once PostgreSQL is back. Needs a
// PostgreSQL cluster of the test's own (root and Debian's postgresql) and HAProxy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AdminClient,
  controlPlaneNodesUnavailable,
  startControlPlaneNodes,
  waitFor,
  type ControlPlaneNodes,
} from '../harness/index.js';

const unavailable = controlPlaneNodesUnavailable({ ownPostgres: true });

void describe('PostgreSQL stopped under the nodes', { skip: unavailable ?? false }, () => {
  let cluster: ControlPlaneNodes;
  before(async () => {
    cluster = await startControlPlaneNodes(2, ['--log-level', 'warn'], { ownPostgres: true });
  });
  after(async () => {
    await cluster?.stop();
  });

  const groups = () =>
    `/subscriptions/${cluster.plane.subscriptionId}/resourceGroups?api-version=2021-04-01`;

  void it('answers 503 with Retry-After while it is away, and recovers by itself', async () => {
    const { plane } = cluster;
    // A token from before: a request needs no new sign-in, only the database.
    const token = await plane.admin.tokenFor(plane.appId, plane.password);
    assert.equal((await plane.admin.call('GET', groups(), { token })).status, 200);

    await cluster.database.server!.stop();
    try {
      for (const url of cluster.nodeUrls) {
        const node = new AdminClient(
          url,
          plane.caCert,
          plane.tenantId,
          plane.appId,
          plane.password,
        );
        const answer = await waitFor(`${url} refusing`, async () => {
          const got = await node.call('GET', groups(), { token });
          return got.status === 503 ? got : undefined;
        });
        assert.ok(Number(answer.headers['retry-after']) > 0, JSON.stringify(answer.headers));
        const error = answer.body['error'] as { code?: string; message?: string } | undefined;
        assert.equal(error?.code, 'ServiceUnavailable');
        assert.equal((await node.call('GET', '/readyz', { token: null })).status, 503);
        assert.equal((await node.call('GET', '/healthz', { token: null })).status, 200);
      }
      // Through HAProxy, once it has marked every node down, the answer has the same shape.
      const through = await waitFor('HAProxy answering for no node', async () => {
        const got = await plane.admin.call('GET', groups(), { token });
        return got.status === 503 ? got : undefined;
      });
      assert.ok(Number(through.headers['retry-after']) > 0);
      assert.equal((through.body['error'] as { code?: string }).code, 'ServiceUnavailable');
      for (const node of cluster.nodes) {
        assert.doesNotMatch(node.logs(), /"level":(50|60)/, 'no error or fatal while it is away');
      }
    } finally {
      await cluster.database.server!.start();
    }

    await waitFor('the nodes serving again', async () => {
      const got = await plane.admin.call('GET', groups(), { token });
      return got.status === 200 ? true : undefined;
    });
    for (const url of cluster.nodeUrls) {
      const node = new AdminClient(url, plane.caCert, plane.tenantId, plane.appId, plane.password);
      await waitFor(`${url} serving again`, async () =>
        (await node.call('GET', groups(), { token })).status === 200 ? true : undefined,
      );
    }
  });
});
