// A machine's life against the real `tether server` process with short timings, driven by a
// stand-in agent built here from node:crypto and jose: onboarding-token roll-out through the
// real CLI, machine sign-in by `kid`, heartbeats and derived status, rotation, revocation and
// re-onboarding rules.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomUUID, createHash, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { startControlPlane, type ControlPlane, type HttpAnswer } from '../harness/index.js';
import { TETHER_BIN } from '../harness/programs.js';
import { DEFAULT_AGENT_CONFIGURATION } from '@tether/protocol';

const V = 'api-version=2024-07-10';
const GRACE_MS = 4000;
const POLL_DEADLINE_MS = 20_000;

interface AgentKey {
  privateKey: KeyObject;
  spki: string;
  kid: string;
}

/** What `azcmagent connect` makes: a P-256 key; kid = base64url SHA-256 of the SPKI DER. */
function newKey(): AgentKey {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return {
    privateKey,
    spki: der.toString('base64'),
    kid: createHash('sha256').update(der).digest('base64url'),
  };
}

function tether(
  args: readonly string[],
  configDir: string,
): Promise<{ code: number; out: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(AZURE_|TETHER_|NODE_EXTRA_CA_CERTS$)/.test(name)) env[name] = value;
  }
  env['TETHER_CONFIG_DIR'] = configDir;
  env['HOME'] = configDir;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TETHER_BIN, ...args],
      { env, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, out: code === 0 ? stdout : stderr });
      },
    );
  });
}

async function pollUntil<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean) {
  const deadline = Date.now() + POLL_DEADLINE_MS;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      assert.fail(`${what} within ${POLL_DEADLINE_MS} ms; last: ${JSON.stringify(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

void describe('machine lifecycle against the real server', () => {
  let plane: ControlPlane;
  let cliDir = '';
  let group = '';
  let onboardingToken = '';

  const machine = (name: string) => `${group}/providers/Microsoft.HybridCompute/machines/${name}`;
  const onboard = (name: string, key: AgentKey, token: string) =>
    plane.admin.call('PUT', `${machine(name)}?${V}`, {
      token,
      body: {
        location: 'westeurope',
        identity: { type: 'SystemAssigned' },
        properties: { clientPublicKey: key.spki, osName: 'linux', agentVersion: '1.0' },
      },
    });
  const principalOf = (answer: HttpAnswer) =>
    (answer.body['identity'] as { principalId: string }).principalId;
  const tokenRequest = async (principalId: string, key: AgentKey) => {
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: key.kid })
      .setIssuer(principalId)
      .setSubject(principalId)
      .setAudience(`${plane.url}/${plane.tenantId}/oauth2/v2.0/token`)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 600)
      .sign(key.privateKey);
    return plane.admin.call('POST', `/${plane.tenantId}/oauth2/v2.0/token`, {
      token: null,
      form: {
        grant_type: 'client_credentials',
        client_id: principalId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
        scope: `${plane.url}/.default`,
      },
    });
  };
  const machineToken = async (principalId: string, key: AgentKey) => {
    const answer = await tokenRequest(principalId, key);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return String(answer.body['access_token']);
  };
  const heartbeat = (name: string, token: string) =>
    plane.admin.call('POST', `${machine(name)}/heartbeat?${V}`, {
      token,
      body: {
        agentVersion: '1.0',
        osName: 'linux',
        osType: 'linux',
        agentConfiguration: DEFAULT_AGENT_CONFIGURATION,
      },
    });
  const statusOf = async (name: string) => {
    const shown = await plane.admin.call('GET', `${machine(name)}?${V}`);
    assert.equal(shown.status, 200, JSON.stringify(shown.body));
    return shown.body['properties'] as Record<string, unknown>;
  };
  /** `tether onboarding-token create` through the real CLI, signed in as the bootstrap owner. */
  const createOnboardingToken = async (maxMachines: number) => {
    const run = await tether(
      [
        'onboarding-token',
        'create',
        '-g',
        'fleet',
        '--expires',
        '1h',
        '--max-machines',
        String(maxMachines),
      ],
      cliDir,
    );
    assert.equal(run.code, 0, run.out);
    return run.out.trim();
  };
  const onboardingCredential = async (token: string) => {
    const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      appId: string;
      secret: string;
      endpoint: string;
    };
    assert.equal(decoded.endpoint, plane.url);
    return plane.admin.tokenFor(decoded.appId, decoded.secret, `${plane.url}/.default`);
  };

  before(async () => {
    plane = await startControlPlane({
      serverArgs: [
        '--heartbeat-interval',
        '1s',
        '--disconnect-after',
        '3s',
        '--expire-after',
        '1h',
        '--rotation-grace',
        `${GRACE_MS / 1000}s`,
        '--log-level',
        'warn',
      ],
    });
    cliDir = await mkdtemp(join(tmpdir(), 'tether-machines-e2e-'));
    group = `/subscriptions/${plane.subscriptionId}/resourceGroups/fleet`;
    const rg = await plane.admin.call('PUT', `${group}?api-version=2021-04-01`, {
      body: { location: 'westeurope' },
    });
    assert.ok(rg.status < 300, JSON.stringify(rg.body));
    const login = await tether(
      [
        'login',
        '--service-principal',
        '-u',
        plane.appId,
        '-p',
        plane.password,
        '--tenant',
        plane.tenantId,
        '--endpoint',
        plane.url,
        '--ca-cert',
        plane.caCert,
      ],
      cliDir,
    );
    assert.equal(login.code, 0, login.out);
    onboardingToken = await onboardingCredential(await createOnboardingToken(10));
  });
  after(async () => {
    await plane.stop();
    await rm(cliDir, { recursive: true, force: true });
  });

  const web = newKey();
  let webPrincipal = '';
  let webToken = '';

  void it('onboards with an Onboarding-only principal and reports Connected with its configuration', async () => {
    const put = await onboard('web', web, onboardingToken);
    assert.equal(put.status, 201, JSON.stringify(put.body));
    webPrincipal = principalOf(put);
    webToken = await machineToken(webPrincipal, web);
    const beat = await heartbeat('web', webToken);
    assert.equal(beat.status, 200, JSON.stringify(beat.body));
    assert.equal(beat.body['heartbeatIntervalSeconds'], 1);
    assert.equal((beat.body['credential'] as Record<string, unknown>)['rotationRequested'], false);
    const shown = await statusOf('web');
    assert.equal(shown['status'], 'Connected');
    assert.deepEqual(shown['agentConfiguration'], DEFAULT_AGENT_CONFIGURATION);
  });

  void it('shows Disconnected after silence and Connected again on the next heartbeat', async () => {
    await pollUntil(
      'Disconnected',
      () => statusOf('web'),
      (p) => p['status'] === 'Disconnected',
    );
    assert.equal((await heartbeat('web', webToken)).status, 200);
    assert.equal((await statusOf('web'))['status'], 'Connected');
  });

  const db = newKey();
  let dbPrincipal = '';
  let dbToken = '';

  void it("refuses a machine's token for another machine", async () => {
    const put = await onboard('db', db, onboardingToken);
    assert.equal(put.status, 201, JSON.stringify(put.body));
    dbPrincipal = principalOf(put);
    dbToken = await machineToken(dbPrincipal, db);
    const crossed = await heartbeat('web', dbToken);
    assert.equal(crossed.status, 403, JSON.stringify(crossed.body));
  });

  void it('rotates on request; the new key signs in and the old one stops after its grace', async () => {
    const asked = await plane.admin.call(
      'POST',
      `${machine('web')}/requestCredentialRotation?${V}`,
    );
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    const beat = await heartbeat('web', webToken);
    assert.equal((beat.body['credential'] as Record<string, unknown>)['rotationRequested'], true);

    const fresh = newKey();
    const started = Date.now();
    const rotated = await plane.admin.call('POST', `${machine('web')}/rotateCredential?${V}`, {
      token: webToken,
      body: { clientPublicKey: fresh.spki },
    });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    webToken = await machineToken(webPrincipal, fresh);
    const after = await heartbeat('web', webToken);
    assert.equal(after.status, 200, JSON.stringify(after.body));
    assert.equal((after.body['credential'] as Record<string, unknown>)['rotationRequested'], false);

    const refused = await pollUntil(
      'the old key refused',
      () => tokenRequest(webPrincipal, web),
      (a) => a.status !== 200,
    );
    assert.ok(Date.now() - started >= GRACE_MS, 'the old key worked for its grace');
    assert.equal(refused.status, 401, JSON.stringify(refused.body));
    assert.equal(refused.body['error'], 'invalid_client');
    await machineToken(webPrincipal, fresh);
  });

  void it('refuses token requests and earlier tokens once the credential is revoked', async () => {
    assert.equal((await heartbeat('db', dbToken)).status, 200);
    const revoked = await plane.admin.call('POST', `${machine('db')}/revokeCredential?${V}`);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    const refused = await tokenRequest(dbPrincipal, db);
    assert.equal(refused.status, 401, JSON.stringify(refused.body));
    assert.equal(refused.body['error'], 'invalid_client');
    assert.match(String(refused.body['error_description']), /revoked/);
    assert.equal((await heartbeat('db', dbToken)).status, 401, 'an earlier token is refused too');
  });

  void it('re-onboarding: Onboarding may not overwrite, a Resource Administrator may', async () => {
    const stranger = newKey();
    const takeover = await onboard('web', stranger, onboardingToken);
    assert.equal(takeover.status, 403, JSON.stringify(takeover.body));

    const created = await tether(
      [
        'sp',
        'create-for-rbac',
        '-n',
        'machines-e2e-admin',
        '--role',
        'Azure Connected Machine Resource Administrator',
        '--scopes',
        group,
      ],
      cliDir,
    );
    assert.equal(created.code, 0, created.out);
    const sp = JSON.parse(created.out) as { appId: string; password: string };
    const adminToken = await plane.admin.tokenFor(sp.appId, sp.password, `${plane.url}/.default`);
    const replacement = newKey();
    const again = await onboard('web', replacement, adminToken);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const newPrincipal = principalOf(again);
    const oldKey = await tokenRequest(webPrincipal, web);
    assert.notEqual(oldKey.status, 200, 'the old identity and key are gone');
    const oldKeyNewIdentity = await tokenRequest(newPrincipal, web);
    assert.equal(oldKeyNewIdentity.status, 401, JSON.stringify(oldKeyNewIdentity.body));
    const beat = await heartbeat('web', await machineToken(newPrincipal, replacement));
    assert.equal(beat.status, 200, JSON.stringify(beat.body));
  });

  void it('an onboarding token from the CLI with --max-machines 1 creates one machine only', async () => {
    const single = await onboardingCredential(await createOnboardingToken(1));
    const first = await onboard('single-1', newKey(), single);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const second = await onboard('single-2', newKey(), single);
    assert.equal(second.status, 409, JSON.stringify(second.body));
    assert.match(JSON.stringify(second.body), /already created its 1 machine/);
    const absent = await plane.admin.call('GET', `${machine('single-2')}?${V}`);
    assert.equal(absent.status, 404);
  });
});
