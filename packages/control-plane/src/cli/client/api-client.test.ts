// The JSON client: ARM errors shown plainly, token retry, paging that keeps the token on the
// configured server, and long-running operations.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiClient } from './api-client.js';
import { ApiError } from './api-error.js';
import { CliError } from './cli-error.js';
import { FakeTransport } from './testing/fake-transport.js';

function client(transport: FakeTransport) {
  const issued: boolean[] = [];
  const api = new ApiClient({
    endpoint: 'https://tether.test:8443',
    transport,
    tokens: {
      accessToken: (fresh = false) => {
        issued.push(fresh);
        return Promise.resolve(fresh ? 'fresh' : 'cached');
      },
    },
    sleep: () => Promise.resolve(),
  });
  return { api, issued };
}

void describe('api client', () => {
  void it('sends JSON with the bearer token and the query', async () => {
    const transport = new FakeTransport().on('PUT', '/things/a%20b', (r) => ({
      status: 201,
      body: { echo: r.body },
    }));
    const { api } = client(transport);
    const answer = await api.put(
      '/things/a%20b',
      { x: 1 },
      { query: { 'api-version': '2021-04-01' } },
    );
    assert.deepEqual(answer, { echo: { x: 1 } });
    const [request] = transport.requests;
    assert.equal(request?.headers['authorization'], 'Bearer cached');
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.equal(request?.url.href, 'https://tether.test:8443/things/a%20b?api-version=2021-04-01');
  });

  void it('shows the ARM error code and message as the server wrote them', async () => {
    const transport = new FakeTransport().on('GET', '/denied', {
      status: 403,
      body: {
        error: { code: 'AuthorizationFailed', message: 'The client may not.', target: 'scope' },
      },
    });
    await assert.rejects(client(transport).api.get('/denied'), (error: unknown) => {
      assert.ok(error instanceof ApiError);
      assert.equal(error.status, 403);
      assert.equal(error.apiCode, 'AuthorizationFailed');
      assert.equal(error.message, '(AuthorizationFailed) The client may not. [target: scope]');
      assert.equal(error.exitCode, 1);
      return true;
    });
  });

  void it('exits 3 for what does not exist, and find() answers undefined', async () => {
    const transport = new FakeTransport();
    const { api } = client(transport);
    await assert.rejects(
      api.get('/missing'),
      (error: unknown) => error instanceof CliError && error.exitCode === 3,
    );
    assert.equal(await api.find('/missing'), undefined);
  });

  void it('names a non-JSON error body plainly', async () => {
    const transport = new FakeTransport().on('GET', '/proxy', { status: 502, body: 'Bad gateway' });
    await assert.rejects(client(transport).api.get('/proxy'), /\(HTTP502\) "Bad gateway"/);
  });

  void it('retries once with a fresh token when the cached one is refused', async () => {
    const transport = new FakeTransport().on('GET', '/me', (r) =>
      r.headers['authorization'] === 'Bearer fresh'
        ? { body: { ok: true } }
        : {
            status: 401,
            body: { error: { code: 'InvalidAuthenticationToken', message: 'expired' } },
          },
    );
    const { api, issued } = client(transport);
    assert.deepEqual(await api.get('/me'), { ok: true });
    assert.deepEqual(issued, [false, true]);
  });

  void it('follows nextLink and @odata.nextLink, sending the token only to the configured server', async () => {
    const transport = new FakeTransport().on('GET', '/list', (r) =>
      r.query.get('page') === '2'
        ? { body: { value: [3], '@odata.nextLink': 'https://other.example/list?page=3' } }
        : r.query.get('page') === '3'
          ? { body: { value: [4] } }
          : {
              body: {
                value: [1, 2],
                nextLink: 'https://tether.internal:9999/list?page=2&api-version=x',
              },
            },
    );
    const { api } = client(transport);
    assert.deepEqual(await api.list('/list', { 'api-version': 'x' }), [1, 2, 3, 4]);
    assert.deepEqual(
      transport.requests.map((r) => r.url.origin),
      Array(3).fill('https://tether.test:8443'),
    );
    assert.deepEqual(await api.list('/list', {}, 3), [1, 2, 3], 'stops once it has enough');
  });

  void it('waits for a long-running operation and reports how it failed', async () => {
    let polls = 0;
    const transport = new FakeTransport()
      .on('DELETE', '/slow', {
        status: 202,
        headers: { 'azure-asyncoperation': 'https://tether.test:8443/ops/1', 'retry-after': '0' },
      })
      .on('GET', '/ops/1', () => {
        polls += 1;
        return {
          body:
            polls < 3
              ? { status: 'InProgress' }
              : { status: 'Failed', error: { code: 'Conflict', message: 'in use' } },
        };
      });
    const { api } = client(transport);
    await assert.rejects(api.delete('/slow'), /\(Conflict\) in use/);
    assert.equal(polls, 3);
    await api.delete('/slow', { noWait: true });
  });

  void it('follows a Location header until the operation stops answering 202', async () => {
    let polls = 0;
    const transport = new FakeTransport()
      .on('DELETE', '/rg', { status: 202, headers: { location: 'https://tether.test:8443/op' } })
      .on('GET', '/op', () => ((polls += 1) < 2 ? { status: 202 } : { status: 200 }));
    await client(transport).api.delete('/rg');
    assert.equal(polls, 2);
  });
});
