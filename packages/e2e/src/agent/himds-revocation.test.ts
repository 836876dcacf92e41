// A revoked machine's HIMDS stops handing out tokens: once the control plane refuses the
// machine, its next heartbeat drops every cached token and callers get the reason, without a
// restart. Real control plane, real agent under a temporary root, real file challenge.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { createResourceGroup } from '../arm/arm-fixtures.js';
import {
  connectAgent,
  startControlPlane,
  waitFor,
  type ConnectedAgent,
  type ControlPlane,
} from '../harness/index.js';

const ROOT_ONLY = process.geteuid?.() === 0 ? false : 'connect needs root';
const RG = 'revocation';
let plane: ControlPlane;
let agent: ConnectedAgent;
let port: number;

before(async () => {
  if (ROOT_ONLY !== false) return;
  plane = await startControlPlane();
  await createResourceGroup(plane, RG);
  agent = await connectAgent(plane, { resourceGroup: RG, name: 'revoked1' });
  port = await agent.startHimds();
});

after(async () => {
  await agent?.stop();
  await plane?.stop();
});

function himdsGet(
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; header: string; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { metadata: 'true', ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            header: String(res.headers['www-authenticate'] ?? ''),
            body: JSON.parse(text) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The whole managed-identity flow, as root (who may read the challenge file). */
async function token(): Promise<{ status: number; body: Record<string, unknown> }> {
  const path = `/metadata/identity/oauth2/token?api-version=2020-06-01&resource=${encodeURIComponent(plane.url)}`;
  const challenge = await himdsGet(path, {});
  assert.equal(challenge.status, 401);
  const realm = /^Basic realm=(\S+)$/.exec(challenge.header)?.[1] ?? '';
  return himdsGet(path, { authorization: `Basic ${readFileSync(realm, 'utf8')}` });
}

void test(
  'after revokeCredential, HIMDS answers 403 with the reason instead of its cached token',
  { skip: ROOT_ONLY, timeout: 60_000 },
  async () => {
    const before = await token();
    assert.equal(before.status, 200, JSON.stringify(before.body));
    const revoked = await plane.admin.call(
      'POST',
      `${agent.machinePath}/revokeCredential?api-version=2024-07-10`,
    );
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    // Within a heartbeat (2 s here) the cached token is gone.
    const refused = await waitFor('HIMDS to stop handing out the cached token', async () => {
      const answer = await token();
      return answer.status === 200 ? undefined : answer;
    });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal(refused.body['error'], 'forbidden');
    assert.match(String(refused.body['error_description']), /refuse.*revoked/i);
  },
);
