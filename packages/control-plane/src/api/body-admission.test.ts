// Admission happens before a body is read: a caller who may not write, or a body larger than
// the route takes, is answered from the headers alone. The requests below declare 40 MB and
// send 1 KB; a server that read bodies first would never answer them.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { TestControlPlane } from '../server/testing/test-control-plane.js';

let cp: TestControlPlane;
let port: number;
let owner: string;
let rgPath: string;

before(async () => {
  cp = await TestControlPlane.start();
  await cp.app.listen({ port: 0, host: '127.0.0.1' });
  port = (cp.app.server.address() as AddressInfo).port;
  owner = await cp.ownerToken();
  rgPath = `/subscriptions/${cp.installation.subscriptionId}/resourceGroups/rg1?api-version=2021-04-01`;
});
after(() => cp.close());

/** Sends the request line, headers and 1 KB of a body declared as `declared` bytes. */
function partialRequest(
  method: string,
  path: string,
  headers: Record<string, string>,
  declared = 40_000_000,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      const end = received.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(received)?.[1];
      if (end >= 0 && length !== undefined && received.length >= end + 4 + Number(length)) {
        socket.destroy();
        resolve({ status: Number(received.slice(9, 12)), text: received.slice(end + 4) });
      }
    });
    socket.on('error', reject);
    const head = Object.entries({
      host: 'tether.test',
      'content-type': 'application/json',
      'content-length': String(declared),
      ...headers,
    })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.write(`${method} ${path} HTTP/1.1\r\n${head}\r\n${'{'.padEnd(1024, ' ')}`);
  });
}

void describe('admission before the body', { timeout: 20_000 }, () => {
  void test('an anonymous write of 40 MB is refused with 401 after 1 KB', async () => {
    const answer = await partialRequest('PUT', rgPath, {});
    assert.equal(answer.status, 401);
    assert.match(answer.text, /AuthenticationFailed|InvalidAuthenticationToken/);
  });

  void test('a signed-in caller without the write action gets 403 before its body is read', async () => {
    const sp = await cp.request('POST', '/v1.0/servicePrincipals', {
      token: owner,
      body: { displayName: 'no-roles' },
    });
    const password = await cp.request(
      'POST',
      `/v1.0/servicePrincipals/${String(sp.body['id'])}/addPassword`,
      {
        token: owner,
        body: {},
      },
    );
    const token = await cp.token(String(sp.body['appId']), String(password.body['secretText']));
    const answer = await partialRequest('PUT', rgPath, { authorization: `Bearer ${token}` });
    assert.equal(answer.status, 403);
    assert.match(answer.text, /AuthorizationFailed/);
  });

  void test('an allowed caller declaring more than the route takes gets 413 without sending it', async () => {
    const answer = await partialRequest('PUT', rgPath, { authorization: `Bearer ${owner}` });
    assert.equal(answer.status, 413);
    assert.match(answer.text, /"code":"RequestEntityTooLarge".*takes at most 1048576/);
  });

  void test('the token endpoint takes small bodies only', async () => {
    const answer = await partialRequest('POST', `/${cp.tenantId}/oauth2/v2.0/token`, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    assert.equal(answer.status, 413);
  });

  void test('Resource Manager routes refuse form bodies (415), so a cross-site form post cannot write', async () => {
    const answer = await cp.request('PUT', rgPath, {
      token: owner,
      form: { location: 'westeurope' },
    });
    assert.equal(answer.status, 415);
    assert.equal((answer.body['error'] as { code: string }).code, 'UnsupportedMediaType');
    const after = await cp.request('GET', rgPath, { token: owner });
    assert.equal(after.status, 404, 'nothing was created');
  });
});

void describe('request shapes answered in the ARM error shape', () => {
  void test('a body nested 5,000 deep is a 400 naming where, not a 500', async () => {
    const deep = `{"location":"westeurope","tags":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
    const answer = await cp.app.inject({
      method: 'PUT',
      url: rgPath,
      headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
      payload: deep,
    });
    assert.equal(answer.statusCode, 400, answer.body);
    const error = (JSON.parse(answer.body) as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'InvalidRequestContent');
    assert.match(error.message, /nests more than 64 levels deep \(at 'tags\.a\.a/);
  });

  void test('an over-long path segment is a 414 in the ARM shape', async () => {
    const answer = await cp.request(
      'GET',
      `/subscriptions/${'a'.repeat(300)}/resourceGroups?api-version=2021-04-01`,
      {
        token: owner,
      },
    );
    assert.equal(answer.status, 414);
    assert.equal((answer.body['error'] as { code: string }).code, 'RequestUriTooLong');
  });
});
