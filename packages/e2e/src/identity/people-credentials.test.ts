// People sign in to a real `tether server` with the unmodified @azure/identity
// DeviceCodeCredential (its code entered over HTTP as a browser would send it) and
// InteractiveBrowserCredential (its sign-in page in real headless Chromium); the unmodified @azure/arm-hybridcompute then lists machines with the token,
// refused until the person holds a role.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { runNodeClient, startControlPlane, waitFor, type ControlPlane } from '../harness/index.js';
import { CLIENTS_DIR } from '../harness/programs.js';

const READER_ROLE_ID = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const USER = 'ada@contoso.example';
const PASSWORD = 'correct horse battery staple';

interface ClientAnswer {
  ok: boolean;
  result?: { machines: number; token: string };
  error?: { statusCode?: number; code?: string; message: string };
}

void describe('people sign in with @azure/identity', () => {
  let plane: ControlPlane;
  let dir: string;
  let userId: string;
  before(async () => {
    plane = await startControlPlane();
    dir = await mkdtemp(join(tmpdir(), 'tether-people-'));
    const created = await plane.admin.call('POST', '/v1.0/users', {
      body: {
        displayName: 'Ada Lovelace',
        userPrincipalName: USER,
        passwordProfile: { password: PASSWORD },
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    userId = String(created.body['id']);
  });
  after(async () => {
    await plane.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const input = (action: 'device' | 'browser', promptFile = '') =>
    JSON.stringify({
      endpoint: plane.url,
      tenantId: plane.tenantId,
      subscriptionId: plane.subscriptionId,
      clientId: '',
      clientSecret: '',
      action,
      promptFile,
    });

  /** Runs DeviceCodeCredential and, once it shows its code, enters it on the page. */
  const deviceCodeSignIn = async (): Promise<ClientAnswer> => {
    const promptFile = join(dir, `prompt-${randomUUID()}.json`);
    const client = runNodeClient<ClientAnswer>(
      'people-credential',
      [input('device', promptFile)],
      plane.clientEnv(),
    );
    const prompt = await waitFor('the device code prompt', async () => {
      try {
        return JSON.parse(await readFile(promptFile, 'utf8')) as Record<string, string>;
      } catch {
        return undefined;
      }
    });
    assert.equal(
      prompt['verificationUri'],
      `${plane.url}/${plane.tenantId}/oauth2/v2.0/deviceauth`,
    );
    assert.match(prompt['message'] ?? '', /enter the code [A-Z]{4}-[A-Z]{4}/);
    const entered = await runNodeClient<{ ok: boolean; postStatus: number }>(
      'sign-in-page-driver',
      [prompt['verificationUri'] ?? ''],
      plane.clientEnv({
        TETHER_SIGN_IN_USER: USER,
        TETHER_SIGN_IN_PASSWORD: PASSWORD,
        TETHER_SIGN_IN_CODE: prompt['userCode'] ?? '',
      }),
    );
    assert.equal(entered.postStatus, 200, JSON.stringify(entered));
    return client;
  };

  void it('DeviceCodeCredential signs a person in; without a role the machine list is refused', async () => {
    const answer = await deviceCodeSignIn();
    assert.equal(answer.ok, false, JSON.stringify(answer));
    assert.equal(answer.error?.statusCode, 403);
    assert.equal(answer.error?.code, 'AuthorizationFailed');
    assert.match(answer.error?.message ?? '', new RegExp(USER.replace('.', '\\.')));
  });

  void it('with Reader, InteractiveBrowserCredential and DeviceCodeCredential tokens list machines', async () => {
    const assigned = await plane.admin.call(
      'PUT',
      `/subscriptions/${plane.subscriptionId}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`,
      {
        body: {
          properties: {
            roleDefinitionId: `/subscriptions/${plane.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${READER_ROLE_ID}`,
            principalId: userId,
            principalType: 'User',
          },
        },
      },
    );
    assert.equal(assigned.status, 201, JSON.stringify(assigned.body));

    // InteractiveBrowserCredential opens the sign-in page with `open`, which runs $BROWSER:
    // here real headless Chromium, where the person types the password and presses Sign in.
    const browser = join(dir, 'browser.sh');
    const log = join(dir, 'browser.log');
    await writeFile(
      browser,
      `#!/bin/sh\nexec '${process.execPath}' '${join(CLIENTS_DIR, 'sign-in-chromium-driver.js')}' "$1"\n`,
    );
    await chmod(browser, 0o755);
    const interactive = await runNodeClient<ClientAnswer>(
      'people-credential',
      [input('browser')],
      plane.clientEnv({
        BROWSER: browser,
        TETHER_SIGN_IN_USER: USER,
        TETHER_SIGN_IN_PASSWORD: PASSWORD,
        TETHER_SIGN_IN_LOG: log,
      }),
    );
    assert.equal(
      interactive.ok,
      true,
      `${JSON.stringify(interactive)} ${await readFile(log, 'utf8').catch(() => '')}`,
    );
    assert.equal(interactive.result?.machines, 0);
    const claims = decodeJwt(interactive.result?.token ?? '');
    assert.equal(claims['oid'], userId);
    assert.equal(claims['idtyp'], 'user');
    // The browser writes its log as it closes, which may be just after the app has its code.
    const lines = await waitFor('the browser to log its sign-in', async () => {
      const text = await readFile(log, 'utf8').catch(() => '');
      return text.endsWith('\n') ? text.trim().split('\n') : undefined;
    });
    // One sign-in: the second token came from the credential's cache.
    assert.equal(lines.length, 1, lines.join('\n'));
    const driven = JSON.parse(lines[0] ?? '') as {
      location: string;
      listenerStatus: number;
    };
    assert.match(driven.location, /^http:\/\/localhost:\d+\/?\?code=/);
    assert.equal(driven.listenerStatus, 200);

    const device = await deviceCodeSignIn();
    assert.equal(device.ok, true, JSON.stringify(device));
    assert.equal(decodeJwt(device.result?.token ?? '')['oid'], userId);
  });
});
