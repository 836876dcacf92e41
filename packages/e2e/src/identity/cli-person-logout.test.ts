// A person signs in with the real `tether login` (device code, entered on the real page) and
// signs out with `tether logout`: the refresh token the profile held is then refused by the
// server, not merely forgotten on disk.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  runNodeClient,
  startControlPlane,
  tetherCli,
  type ControlPlane,
} from '../harness/index.js';
import { TETHER_BIN } from '../harness/programs.js';

const USER = 'grace@contoso.example';
const PASSWORD = 'another long pass phrase';
const PEOPLE_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';

void describe('tether logout for a person', () => {
  let plane: ControlPlane;
  let home: string;
  before(async () => {
    plane = await startControlPlane();
    home = await mkdtemp(join(tmpdir(), 'tether-logout-'));
    const created = await plane.admin.call('POST', '/v1.0/users', {
      body: {
        displayName: 'Grace Hopper',
        userPrincipalName: USER,
        passwordProfile: { password: PASSWORD },
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
  });
  after(async () => {
    await plane.stop();
    await rm(home, { recursive: true, force: true });
  });

  /** `tether login` as a person; enters the code it prints on the verification page. */
  const login = (): Promise<{ code: number | null; stderr: string }> =>
    new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [TETHER_BIN, 'login', '--tenant', plane.tenantId, '--endpoint', plane.url],
        {
          env: {
            PATH: process.env.PATH,
            HOME: home,
            TETHER_CONFIG_DIR: join(home, 'profile'),
            TETHER_CA_CERT: plane.caCert,
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      let entered = false;
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`tether login did not finish: ${stderr}`));
      }, 60_000);
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        const prompt = /open the page (\S+) and enter the code ([A-Z]{4}-[A-Z]{4})/.exec(stderr);
        if (prompt === null || entered) return;
        entered = true;
        runNodeClient<{ postStatus: number }>(
          'sign-in-page-driver',
          [prompt[1] ?? ''],
          plane.clientEnv({
            TETHER_SIGN_IN_USER: USER,
            TETHER_SIGN_IN_PASSWORD: PASSWORD,
            TETHER_SIGN_IN_CODE: prompt[2] ?? '',
          }),
        ).catch(reject);
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stderr });
      });
    });

  void it('revokes the refresh token at the server, then forgets the profile', async () => {
    const signedIn = await login();
    assert.equal(signedIn.code, 0, signedIn.stderr);
    const profile = JSON.parse(await readFile(join(home, 'profile', 'profile.json'), 'utf8')) as {
      refreshToken: string;
    };
    assert.ok(profile.refreshToken.length > 20);

    const out = await tetherCli(plane, home).run(['logout']);
    assert.equal(out.code, 0, out.stderr);
    await assert.rejects(readFile(join(home, 'profile', 'profile.json')));

    const refused = await plane.admin.call('POST', `/${plane.tenantId}/oauth2/v2.0/token`, {
      token: null,
      form: {
        grant_type: 'refresh_token',
        client_id: PEOPLE_CLIENT_ID,
        refresh_token: profile.refreshToken,
        scope: 'https://management.azure.com/.default offline_access',
      },
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body['error'], 'invalid_grant');
    assert.match(String(refused.body['error_description']), /revoked/);
  });
});
