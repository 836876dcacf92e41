// People signing in, in process over the real app: the authorization code flow with PKCE and the
// sign-in page, tokens RBAC applies to, refresh rotation and reuse detection, sign-out, a new
// password, rate limits and the device code flow.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { READER_ROLE_ID } from '../rbac/built-in-roles.js';
import { TestControlPlane, type Answer } from '../server/testing/test-control-plane.js';
import { AZURE_CLI_CLIENT_ID } from './people-clients.js';
import { REFRESH_REUSE_GRACE_MS } from './refresh-tokens.js';

const PASSWORD = 'correct horse battery staple';
const VERIFIER = 'v'.repeat(20) + randomUUID();
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');
const REDIRECT = 'http://localhost:51234/';
const SCOPE = 'https://management.azure.com/.default openid profile offline_access';

void describe('people sign-in', () => {
  let plane: TestControlPlane;
  let owner: string;
  let userId: string;
  before(async () => {
    plane = await TestControlPlane.start();
    owner = await plane.ownerToken();
    const user = await plane.controlPlane.directory.createUser(
      'Ada Lovelace',
      'ada@contoso.example',
      PASSWORD,
    );
    userId = user.id;
  });
  after(() => plane.close());

  const tenantPath = () => `/${plane.tenantId}/oauth2/v2.0`;
  const authorizeUrl = (extra: Record<string, string> = {}) =>
    `${tenantPath()}/authorize?${new URLSearchParams({
      client_id: AZURE_CLI_CLIENT_ID,
      response_type: 'code',
      redirect_uri: REDIRECT,
      scope: SCOPE,
      state: 'state-1',
      nonce: 'nonce-1',
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
      ...extra,
    }).toString()}`;
  const cookiesOf = (answer: Answer): string[] => {
    const header = answer.headers['set-cookie'];
    const list = Array.isArray(header) ? header : header === undefined ? [] : [String(header)];
    return list.map((c) => c.split(';')[0] ?? '');
  };
  const csrfOf = (answer: Answer): string =>
    /name="csrf_token" value="([^"]+)"/.exec(String(answer.body['text']))?.[1] ?? '';

  /** Shows the page, posts the password; returns the final answer and the cookies it set. */
  const signIn = async (password = PASSWORD, url = authorizeUrl()) => {
    const page = await plane.request('GET', url);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    const cookies = cookiesOf(page);
    const posted = await plane.request('POST', url, {
      form: { csrf_token: csrfOf(page), username: 'ada@contoso.example', password },
      headers: { cookie: cookies.join('; ') },
    });
    return { page, posted, cookies: [...cookies, ...cookiesOf(posted)] };
  };
  const codeOf = (answer: Answer): string => {
    assert.equal(answer.status, 302, JSON.stringify(answer.body));
    const location = new URL(String(answer.headers['location']));
    assert.equal(location.origin + location.pathname, REDIRECT);
    assert.equal(location.searchParams.get('state'), 'state-1');
    return location.searchParams.get('code') ?? '';
  };
  const token = (form: Record<string, string>) =>
    plane.request('POST', `${tenantPath()}/token`, {
      form: { client_id: AZURE_CLI_CLIENT_ID, ...form },
    });
  const redeem = (code: string, verifier = VERIFIER) =>
    token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      scope: SCOPE,
      client_info: '1',
    });
  const refresh = (refreshToken: string) =>
    token({ grant_type: 'refresh_token', refresh_token: refreshToken, scope: SCOPE });
  const listMachines = (accessToken: string) =>
    plane.request(
      'GET',
      `/subscriptions/${plane.installation.subscriptionId}/providers/Microsoft.HybridCompute/machines?api-version=2021-05-20`,
      { token: accessToken },
    );

  void it('discovery advertises the code, refresh and device code grants, PKCE and sign-out', async () => {
    const doc = await plane.request(
      'GET',
      `/${plane.tenantId}/v2.0/.well-known/openid-configuration`,
    );
    assert.deepEqual(doc.body['code_challenge_methods_supported'], ['S256']);
    assert.ok((doc.body['grant_types_supported'] as string[]).includes('refresh_token'));
    assert.equal(
      doc.body['end_session_endpoint'],
      `https://tether.test:8443${tenantPath()}/logout`,
    );
    assert.equal(
      doc.body['device_authorization_endpoint'],
      `https://tether.test:8443${tenantPath()}/devicecode`,
    );
  });

  void it('serves a sign-in page without script, framing or caching, with a CSRF token', async () => {
    const page = await plane.request('GET', authorizeUrl());
    const html = String(page.body['text']);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.doesNotMatch(html, /<script/i);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /form-action 'self' http:\/\/localhost:51234/);
    assert.equal(page.headers['x-frame-options'], 'DENY');
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.match(csrfOf(page), /^[A-Za-z0-9_-]{43}$/);
    assert.ok(cookiesOf(page).some((c) => c.startsWith('tether_csrf=')));
  });

  void it('signs a person in with PKCE and gives tokens that RBAC applies to', async () => {
    const { posted } = await signIn();
    const answer = await redeem(codeOf(posted));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const id = decodeJwt(String(answer.body['id_token']));
    assert.equal(id['oid'], userId);
    assert.equal(id['tid'], plane.tenantId);
    assert.equal(id['preferred_username'], 'ada@contoso.example');
    assert.equal(id['name'], 'Ada Lovelace');
    assert.equal(id['nonce'], 'nonce-1');
    assert.equal(id.aud, AZURE_CLI_CLIENT_ID);
    const clientInfo = JSON.parse(
      Buffer.from(String(answer.body['client_info']), 'base64url').toString(),
    ) as Record<string, string>;
    assert.deepEqual(clientInfo, { uid: userId, utid: plane.tenantId });
    const access = String(answer.body['access_token']);
    assert.equal(decodeJwt(access)['oid'], userId);
    assert.equal(decodeJwt(access).aud, 'https://management.azure.com/');
    assert.match(String(answer.body['refresh_token']), /^[A-Za-z0-9_-]{43}$/);
    // Authenticated, but no role yet.
    assert.equal((await listMachines(access)).status, 403);
    const assigned = await plane.request(
      'PUT',
      `/subscriptions/${plane.installation.subscriptionId}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`,
      {
        token: owner,
        body: {
          properties: {
            roleDefinitionId: `/subscriptions/${plane.installation.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${READER_ROLE_ID}`,
            principalId: userId,
            principalType: 'User',
          },
        },
      },
    );
    assert.equal(assigned.status, 201, JSON.stringify(assigned.body));
    assert.equal((await listMachines(access)).status, 200);
  });

  void it('redeems a code once, only with its verifier and redirect URI', async () => {
    const code = codeOf((await signIn()).posted);
    const wrong = await redeem(code, 'w'.repeat(43));
    assert.equal(wrong.status, 400);
    assert.match(String(wrong.body['error_description']), /code_verifier/);
    // Taken by the failed attempt: a code is never good for a second try.
    const again = await redeem(code);
    assert.equal(again.body['error'], 'invalid_grant');
    const other = codeOf((await signIn()).posted);
    const moved = await token({
      grant_type: 'authorization_code',
      code: other,
      redirect_uri: 'http://localhost:1/',
      code_verifier: VERIFIER,
    });
    assert.match(String(moved.body['error_description']), /redirect_uri/);
  });

  void it('refuses a request without PKCE by redirecting with the error, and an unknown redirect with a page', async () => {
    const noPkce = await plane.request(
      'GET',
      authorizeUrl({ code_challenge: '', code_challenge_method: '' }),
    );
    assert.equal(noPkce.status, 302);
    const location = new URL(String(noPkce.headers['location']));
    assert.equal(location.searchParams.get('error'), 'invalid_request');
    assert.match(location.searchParams.get('error_description') ?? '', /PKCE is required/);
    const elsewhere = await plane.request(
      'GET',
      authorizeUrl({ redirect_uri: 'https://evil.example/cb' }),
    );
    assert.equal(elsewhere.status, 400);
    assert.equal(elsewhere.headers['location'], undefined);
    assert.match(String(elsewhere.body['text']), /does not match the redirect URIs/);
  });

  void it('refuses a form post without the CSRF cookie', async () => {
    const page = await plane.request('GET', authorizeUrl());
    const posted = await plane.request('POST', authorizeUrl(), {
      form: { csrf_token: csrfOf(page), username: 'ada@contoso.example', password: PASSWORD },
    });
    assert.equal(posted.status, 400);
    assert.match(String(posted.body['text']), /form expired/);
  });

  void it('rotates refresh tokens, and a reused one revokes its whole family', async () => {
    const first = await redeem(codeOf((await signIn()).posted));
    const rt1 = String(first.body['refresh_token']);
    const second = await refresh(rt1);
    assert.equal(second.status, 200, JSON.stringify(second.body));
    const rt2 = String(second.body['refresh_token']);
    assert.notEqual(rt2, rt1);
    // Past the grace window for concurrent refreshes, a second use is a stolen copy.
    plane.clock.advance(REFRESH_REUSE_GRACE_MS + 1);
    const reused = await refresh(rt1);
    assert.equal(reused.body['error'], 'invalid_grant');
    assert.match(String(reused.body['error_description']), /already used once/);
    const afterReuse = await refresh(rt2);
    assert.equal(afterReuse.body['error'], 'invalid_grant');
    assert.match(String(afterReuse.body['error_description']), /revoked/);
  });

  void it('two refreshes of one token at once: one gets tokens, the other nothing, and the sign-in lives on', async () => {
    const rt1 = String((await redeem(codeOf((await signIn()).posted))).body['refresh_token']);
    const [a, b] = await Promise.all([refresh(rt1), refresh(rt1)]);
    const won = [a, b].filter((r) => r.status === 200);
    const lost = [a, b].filter((r) => r.status !== 200);
    assert.equal(won.length, 1, JSON.stringify([a.body, b.body]));
    assert.equal(lost[0]?.body['error'], 'invalid_grant');
    assert.match(
      String(lost[0]?.body['error_description']),
      /used by another request .* still valid/,
    );
    assert.equal(lost[0]?.body['refresh_token'], undefined);
    assert.equal(lost[0]?.body['access_token'], undefined);
    // A third use inside the window gets nothing either: the window is no replay hole.
    plane.clock.advance(REFRESH_REUSE_GRACE_MS - 1);
    const copy = await refresh(rt1);
    assert.equal(copy.body['error'], 'invalid_grant');
    assert.equal(copy.body['access_token'], undefined);
    // The winner's successor still works: nobody was signed out.
    const next = await refresh(String(won[0]?.body['refresh_token']));
    assert.equal(next.status, 200, JSON.stringify(next.body));
  });

  void it('a Cancel on the sign-in page returns access_denied to the application, and needs the CSRF cookie', async () => {
    const page = await plane.request('GET', authorizeUrl());
    assert.match(
      String(page.body['text']),
      /<button type="submit" name="cancel" value="1" formnovalidate/,
    );
    const cookies = cookiesOf(page);
    const declined = await plane.request('POST', authorizeUrl(), {
      form: { csrf_token: csrfOf(page), cancel: '1' },
      headers: { cookie: cookies.join('; ') },
    });
    assert.equal(declined.status, 302);
    const location = new URL(String(declined.headers['location']));
    assert.equal(location.origin + location.pathname, REDIRECT);
    assert.equal(location.searchParams.get('error'), 'access_denied');
    assert.equal(location.searchParams.get('state'), 'state-1');
    assert.equal(location.searchParams.get('code'), null);
    assert.equal(cookiesOf(declined).filter((c) => c.startsWith('tether_session=')).length, 0);
    const forged = await plane.request('POST', authorizeUrl(), { form: { cancel: '1' } });
    assert.equal(forged.status, 400, 'without the CSRF cookie: the page again, no redirect');
    assert.equal(forged.headers['location'], undefined);
  });

  void it('organizations and common reach the tenant: authorize moves there, the token endpoint answers', async () => {
    for (const alias of ['organizations', 'common']) {
      const moved = await plane.request('GET', authorizeUrl().replace(plane.tenantId, alias));
      assert.equal(moved.status, 302);
      assert.equal(String(moved.headers['location']), `https://tether.test:8443${authorizeUrl()}`);
    }
    const rt = String((await redeem(codeOf((await signIn()).posted))).body['refresh_token']);
    const viaAlias = await plane.request('POST', `/organizations/oauth2/v2.0/token`, {
      form: {
        client_id: AZURE_CLI_CLIENT_ID,
        grant_type: 'refresh_token',
        refresh_token: rt,
        scope: SCOPE,
      },
    });
    assert.equal(viaAlias.status, 200, JSON.stringify(viaAlias.body));
    const other = await plane.request('GET', authorizeUrl().replace(plane.tenantId, 'contoso'));
    assert.equal(other.status, 404);
    assert.match(String(other.body['text']), /also reachable as &#39;organizations&#39;/);
  });

  void it('revokes a refresh token at the revocation endpoint: that sign-in ends, unknown tokens change nothing', async () => {
    const doc = await plane.request(
      'GET',
      `/${plane.tenantId}/v2.0/.well-known/openid-configuration`,
    );
    assert.equal(doc.body['revocation_endpoint'], `https://tether.test:8443${tenantPath()}/revoke`);
    const first = await redeem(codeOf((await signIn()).posted));
    const rt = String(first.body['refresh_token']);
    const revoke = (form: Record<string, string>) =>
      plane.request('POST', `${tenantPath()}/revoke`, { form });
    const wrongClient = await revoke({ token: rt, client_id: randomUUID() });
    assert.equal(wrongClient.status, 400);
    assert.equal(wrongClient.body['error'], 'unauthorized_client');
    assert.equal(
      (await revoke({ client_id: AZURE_CLI_CLIENT_ID })).body['error'],
      'invalid_request',
    );
    const unknown = await revoke({ token: 'not-a-token-of-ours', client_id: AZURE_CLI_CLIENT_ID });
    assert.equal(unknown.status, 200);
    const done = await revoke({
      token: rt,
      client_id: AZURE_CLI_CLIENT_ID,
      token_type_hint: 'refresh_token',
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    const refused = await refresh(rt);
    assert.equal(refused.body['error'], 'invalid_grant');
    assert.match(String(refused.body['error_description']), /revoked/);
    // Revoking twice is still a success: the token is gone either way.
    assert.equal((await revoke({ token: rt, client_id: AZURE_CLI_CLIENT_ID })).status, 200);
  });

  void it('reuses the browser session for the next sign-in, and sign-out ends it and revokes refresh tokens', async () => {
    const { posted, cookies } = await signIn();
    const tokens = await redeem(codeOf(posted));
    const session = cookies.filter((c) => c.startsWith('tether_session='));
    const again = await plane.request('GET', authorizeUrl(), {
      headers: { cookie: session.join('; ') },
    });
    assert.ok(codeOf(again) !== '');
    const out = await plane.request('GET', `${tenantPath()}/logout`, {
      headers: { cookie: session.join('; ') },
    });
    assert.equal(out.status, 200);
    assert.match(String(out.body['text']), /You have signed out/);
    const refused = await refresh(String(tokens.body['refresh_token']));
    assert.equal(refused.body['error'], 'invalid_grant');
    const page = await plane.request('GET', authorizeUrl(), {
      headers: { cookie: session.join('; ') },
    });
    assert.equal(page.status, 200, 'the sign-in page again, not a code');
  });

  void it('lets a person change their password with the current one; old tokens stop working', async () => {
    const tokens = await redeem(codeOf((await signIn()).posted));
    const access = String(tokens.body['access_token']);
    const me = await plane.request('GET', '/v1.0/me', { token: access });
    assert.equal(me.body['userPrincipalName'], 'ada@contoso.example');
    const wrong = await plane.request('POST', '/v1.0/me/changePassword', {
      token: access,
      body: { currentPassword: 'not it at all', newPassword: 'an entirely new phrase' },
    });
    assert.equal(wrong.status, 400);
    const weak = await plane.request('POST', '/v1.0/me/changePassword', {
      token: access,
      body: { currentPassword: PASSWORD, newPassword: 'short' },
    });
    assert.equal(weak.status, 400);
    assert.match(JSON.stringify(weak.body), /at least 12/);
    const changed = await plane.request('POST', '/v1.0/me/changePassword', {
      token: access,
      body: { currentPassword: PASSWORD, newPassword: 'an entirely new phrase' },
    });
    assert.equal(changed.status, 204, JSON.stringify(changed.body));
    assert.equal((await plane.request('GET', '/v1.0/me', { token: access })).status, 401);
    assert.equal(
      (await refresh(String(tokens.body['refresh_token']))).body['error'],
      'invalid_grant',
    );
    await plane.controlPlane.directory.passwords.set(userId, PASSWORD, 'password');
  });

  void it('stops wrong passwords after 5 with 429 and Retry-After, and logs the attempts without the password', async () => {
    // A new window: earlier tests' failures (a wrong current password) are forgotten.
    plane.clock.advance(300_000);
    const url = authorizeUrl({ login_hint: 'ada@contoso.example' });
    for (let i = 0; i < 5; i++) {
      const { posted } = await signIn(`wrong guess number ${i}`, url);
      assert.equal(posted.status, 400);
      assert.match(String(posted.body['text']), /user name or password is not correct/);
    }
    const { posted } = await signIn(PASSWORD, url);
    assert.equal(posted.status, 429);
    assert.equal(posted.headers['retry-after'], '300');
    assert.match(String(posted.body['text']), /Try again in 300 seconds/);
    const rows = await plane.db
      .selectFrom('activity_log')
      .selectAll()
      .where('operation_name', 'like', '%signIn/action')
      .execute();
    assert.ok(
      rows.filter((r) => r.status === 'Failed' && r.sub_status === 'InvalidUserNameOrPassword')
        .length >= 5,
    );
    assert.ok(rows.some((r) => r.sub_status === 'TooManyRequests'));
    assert.ok(rows.some((r) => r.status === 'Succeeded' && r.caller === 'ada@contoso.example'));
    assert.ok(!JSON.stringify(rows).includes('wrong guess'));
    plane.clock.advance(300_000);
  });

  void it('runs the device code flow: pending, slow down, approval on the page, one redemption', async () => {
    const started = await plane.request('POST', `${tenantPath()}/devicecode`, {
      form: { client_id: AZURE_CLI_CLIENT_ID, scope: SCOPE },
    });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: uri,
    } = started.body as Record<string, string>;
    assert.match(userCode ?? '', /^[A-Z]{4}-[A-Z]{4}$/);
    assert.equal(uri, `https://tether.test:8443${tenantPath()}/deviceauth`);
    assert.match(String(started.body['message']), new RegExp(`enter the code ${userCode ?? ''}`));
    const poll = () =>
      token({
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: deviceCode ?? '',
      });
    assert.equal((await poll()).body['error'], 'authorization_pending');
    assert.equal((await poll()).body['error'], 'slow_down');
    plane.clock.advance(5_000);
    assert.equal((await poll()).body['error'], 'authorization_pending');

    const page = await plane.request('GET', `${tenantPath()}/deviceauth`);
    const cookie = cookiesOf(page).join('; ');
    const wrongCode = await plane.request('POST', `${tenantPath()}/deviceauth`, {
      form: {
        csrf_token: csrfOf(page),
        user_code: 'BBBB-BBBB',
        username: 'ada@contoso.example',
        password: PASSWORD,
      },
      headers: { cookie },
    });
    assert.match(String(wrongCode.body['text']), /code is not valid or has expired/);
    const approved = await plane.request('POST', `${tenantPath()}/deviceauth`, {
      form: {
        csrf_token: csrfOf(page),
        user_code: (userCode ?? '').toLowerCase(),
        username: 'ada@contoso.example',
        password: PASSWORD,
      },
      headers: { cookie },
    });
    assert.equal(approved.status, 200);
    assert.match(String(approved.body['text']), /You are signed in/);
    plane.clock.advance(5_000);
    const tokens = await poll();
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal(decodeJwt(String(tokens.body['access_token']))['oid'], userId);
    plane.clock.advance(5_000);
    assert.equal((await poll()).body['error'], 'invalid_grant');
  });

  void it('answers expired_token once a device code has lapsed', async () => {
    const started = await plane.request('POST', `${tenantPath()}/devicecode`, {
      form: { client_id: AZURE_CLI_CLIENT_ID, scope: SCOPE },
    });
    plane.clock.advance(15 * 60_000);
    const late = await token({
      grant_type: 'device_code',
      device_code: String(started.body['device_code']),
    });
    assert.equal(late.body['error'], 'expired_token');
  });

  void it('sends a web app back only to its registered redirect URI, and makes it prove its secret', async () => {
    const app = await plane.request('POST', '/v1.0/servicePrincipals', {
      token: owner,
      body: { displayName: 'portal' },
    });
    const appId = String(app.body['appId']);
    const web = 'https://portal.example/signin-oidc';
    const url = authorizeUrl({ client_id: appId, redirect_uri: web });
    assert.equal((await plane.request('GET', url)).status, 400, 'not registered yet');
    const bad = await plane.request('PATCH', `/v1.0/servicePrincipals/${String(app.body['id'])}`, {
      token: owner,
      body: { replyUrls: ['http://portal.example/signin-oidc'] },
    });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /replyUrls\[0\]/);
    const registered = await plane.request(
      'PATCH',
      `/v1.0/servicePrincipals/${String(app.body['id'])}`,
      {
        token: owner,
        body: { replyUrls: [web] },
      },
    );
    assert.equal(registered.status, 204, JSON.stringify(registered.body));
    const shown = await plane.request('GET', `/v1.0/servicePrincipals/${String(app.body['id'])}`, {
      token: owner,
    });
    assert.deepEqual(shown.body['replyUrls'], [web]);
    const secret = await plane.request(
      'POST',
      `/v1.0/servicePrincipals/${String(app.body['id'])}/addPassword`,
      {
        token: owner,
        body: {},
      },
    );
    const { posted } = await signIn(PASSWORD, url);
    assert.equal(posted.status, 302, JSON.stringify(posted.body));
    const location = new URL(String(posted.headers['location']));
    assert.equal(location.origin + location.pathname, web);
    const code = location.searchParams.get('code') ?? '';
    const form = {
      grant_type: 'authorization_code',
      client_id: appId,
      code,
      redirect_uri: web,
      code_verifier: VERIFIER,
      scope: SCOPE,
    };
    const anonymous = await plane.request('POST', `${tenantPath()}/token`, { form });
    assert.equal(anonymous.status, 401, JSON.stringify(anonymous.body));
    const code2 =
      new URL(String((await signIn(PASSWORD, url)).posted.headers['location'])).searchParams.get(
        'code',
      ) ?? '';
    const proven = await plane.request('POST', `${tenantPath()}/token`, {
      form: { ...form, code: code2, client_secret: String(secret.body['secretText']) },
    });
    assert.equal(proven.status, 200, JSON.stringify(proven.body));
    assert.equal(decodeJwt(String(proven.body['id_token'])).aud, appId);
  });

  void it('limits failed token requests per client and address with 429, and logs them without the token', async () => {
    plane.clock.advance(60_000);
    for (let i = 0; i < 10; i++) {
      const refused = await refresh(`made-up-refresh-token-${i}`);
      assert.equal(refused.status, 400);
      assert.equal(refused.body['error'], 'invalid_grant');
    }
    const limited = await refresh('made-up-refresh-token-10');
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    const rows = await plane.db
      .selectFrom('activity_log')
      .selectAll()
      .where('operation_name', '=', 'Microsoft.Authorization/directory/users/token/action')
      .execute();
    assert.ok(rows.some((r) => r.status === 'Succeeded' && r.caller === 'ada@contoso.example'));
    assert.ok(rows.filter((r) => r.sub_status.startsWith('invalid_grant')).length >= 10);
    assert.ok(rows.some((r) => r.sub_status === 'TooManyRequests'));
    assert.ok(!JSON.stringify(rows).includes('made-up-refresh-token'));
    plane.clock.advance(60_000);
  });
});
