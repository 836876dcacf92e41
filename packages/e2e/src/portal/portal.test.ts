// The web portal end to end in real headless Chromium: a real `tether server` serving the portal
// on its own origin and a real agent. A person signs in with a password on the API's sign-in
// page, sees the fleet, opens the machine, deploys CustomScript and watches it succeed, sees
// the machine's own refusal of a script its allowlist does not admit, assigns a role, checks one
// person's access, removes the role again, reads the extension repository and signs out; a
// Reader sees no write control and the API refuses writes forced with their token.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { waitFor } from '../harness/index.js';
import { startExtensionFixture, type ExtensionFixture } from '../extensions/extension-fixture.js';
import { launchChromium, screenshotDir, seriousViolations } from './portal-browser.js';

const ROOT_ONLY = process.geteuid?.() === 0 ? false : 'azcmagent connect needs root';
const OWNER_ROLE = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';
const READER_ROLE = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const PASSWORD = 'correct horse battery staple';

void describe('the web portal in headless Chromium', { skip: ROOT_ONLY, timeout: 240_000 }, () => {
  let fx: ExtensionFixture;
  let browser: Browser;
  let portal: string;
  let readerAssignment: string;
  const shots = screenshotDir();

  const createUser = async (name: string, upn: string): Promise<string> => {
    const created = await fx.plane.admin.call('POST', '/v1.0/users', {
      body: { displayName: name, userPrincipalName: upn, passwordProfile: { password: PASSWORD } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return String(created.body['id']);
  };
  /**
   * At the subscription, or with `tenantRoot` at `/`, which reading the directory needs; returns
   * the assignment's id.
   */
  const assign = async (principalId: string, role: string, tenantRoot = false): Promise<string> => {
    const scope = tenantRoot ? '' : `/subscriptions/${fx.plane.subscriptionId}`;
    const id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}`;
    const put = await fx.plane.admin.call('PUT', `${id}?api-version=2022-04-01`, {
      body: {
        properties: {
          roleDefinitionId: `${scope}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
          principalId,
        },
      },
    });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    return id;
  };

  /** Waits until no section of the page is still loading, so a screenshot shows content. */
  const settled = async (page: Page): Promise<void> => {
    await waitFor('the page loaded', async () =>
      (await page.getByText('Loading…').count()) === 0 ? true : undefined,
    );
  };

  /** The number of principals the machine page's root-access summary names. */
  const rootPrincipals = async (page: Page): Promise<number> =>
    Number(
      /^(\d+) principals? can run code/.exec(
        await page.locator('#root-access-summary').innerText(),
      )?.[1] ?? 0,
    );

  /** A fresh browser profile signed in as `upn` through the API's own sign-in page. */
  const signIn = async (upn: string): Promise<{ context: BrowserContext; page: Page }> => {
    const context = await browser.newContext({
      ignoreHTTPSErrors: true,
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    await page.goto(portal);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.origin === fx.plane.url);
    await page.fill('input[name=username]', upn);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL((url) => url.origin === portal);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    return { context, page };
  };

  const machineName = (): string => fx.agent.name;

  const openMachine = async (page: Page): Promise<void> => {
    await page
      .getByRole('navigation', { name: 'Portal' })
      .getByRole('link', { name: 'Machines' })
      .click();
    await page.getByRole('link', { name: machineName() }).click();
    await page.getByRole('heading', { name: machineName(), level: 1 }).waitFor();
  };

  before(async () => {
    fx = await startExtensionFixture({
      serverArgs: ['--portal-listen', '127.0.0.1:0', '--heartbeat-interval', '2s'],
    });
    portal = fx.plane.portalUrl ?? '';
    assert.match(portal, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(portal, fx.plane.url, 'the portal has an origin of its own');
    // An administrator: Owner at the tenant root, so the directory's users can be looked up.
    await assign(await createUser('Ada Lovelace', 'ada@contoso.example'), OWNER_ROLE, true);
    readerAssignment = await assign(
      await createUser('Rita Reader', 'rita@contoso.example'),
      READER_ROLE,
    );
    await createUser('Carl Contributor', 'carl@contoso.example');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await fx?.stop();
  });

  void it('serves the portal with a strict policy and lets only its origin call the API', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const tab = await context.newPage();
    const answer = await tab.goto(portal);
    const headers = answer?.headers() ?? {};
    const csp = headers['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(headers['x-frame-options'], 'DENY');
    assert.match(headers['strict-transport-security'] ?? '', /max-age=\d+/);

    // The browser itself enforces CORS: a fetch the API did not admit would throw.
    const status = await tab.evaluate(
      async (api) => (await fetch(`${api}/healthz`)).status,
      fx.plane.url,
    );
    assert.equal(status, 200);
    const admitted = await fx.plane.admin.call('GET', '/healthz', { headers: { origin: portal } });
    assert.equal(admitted.headers['access-control-allow-origin'], portal);
    const foreign = await fx.plane.admin.call('GET', '/healthz', {
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(foreign.headers['access-control-allow-origin'], undefined);
    await context.close();
  });

  void it('an Owner signs in, sees the fleet, deploys CustomScript and sees a local refusal', async () => {
    const { context, page } = await signIn('ada@contoso.example');
    const connected = page.locator('.stat-list li', { hasText: 'Connected' }).first();
    await waitFor('the fleet counted', async () =>
      /^1\b/.test((await connected.innerText()).trim()) ? true : undefined,
    );
    await settled(page);
    await page.screenshot({ path: join(shots, 'overview.png'), fullPage: true });
    assert.deepEqual(await seriousViolations(page), []);

    await page
      .getByRole('navigation', { name: 'Portal' })
      .getByRole('link', { name: 'Machines' })
      .click();
    await page.getByText(/1–1 of 1 machines/).waitFor();
    await settled(page);
    await page.screenshot({ path: join(shots, 'machines.png'), fullPage: true });
    assert.deepEqual(await seriousViolations(page), []);

    await openMachine(page);
    await page.locator('#overview').getByText('Connected').waitFor();
    // No local list yet: whoever may write extensions can run a script as root here.
    const extensionsDoor = page.locator('#root-access li[data-door=extensions]');
    await extensionsDoor.locator('.badge', { hasText: 'open' }).waitFor();
    await page.locator('#root-access tr', { hasText: 'Ada Lovelace' }).first().waitFor();

    // Deploy CustomScript with its settings and watch the operation end; the version offered is
    // the newest the repository holds.
    const form = page.getByRole('form', { name: 'Deploy CustomScript' });
    await waitFor('the repository versions offered', async () =>
      /^\d+(\.\d+)+$/.test(await form.getByLabel(/^Version/).inputValue()) ? true : undefined,
    );
    const offered = await form.getByLabel(/^Version/).inputValue();
    await form.getByLabel('Extension name').fill('hello');
    await form.getByLabel(/Command to execute/).fill('echo hello from the portal');
    await form.getByRole('button', { name: 'Deploy' }).click();
    await page
      .getByRole('status')
      .getByText('Deploying hello: Succeeded')
      .waitFor({ timeout: 90_000 });
    const row = page.locator('tr[data-extension=hello]');
    await row.locator('.badge', { hasText: 'Succeeded' }).waitFor();
    await row.getByText(/hello from the portal/).waitFor();
    assert.equal(await row.locator('td').nth(2).innerText(), offered);

    // The server's own allowlist refuses a script; the portal shows the machine's reason.
    const set = await fx.azcmagent(
      'config',
      'set',
      'extensions.allowlist',
      'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent',
    );
    assert.equal(set.status, 0, set.stderr);
    await form.getByLabel('Extension name').fill('refused');
    await form.getByLabel(/Command to execute/).fill('echo must not run');
    await form.getByRole('button', { name: 'Deploy' }).click();
    await page
      .getByRole('status')
      .getByText('Deploying refused: Failed')
      .waitFor({ timeout: 90_000 });
    await page
      .locator('tr[data-extension=refused]')
      .getByText(/allowlist/)
      .first()
      .waitFor();

    // Once the machine has reported its allowlist, the extensions door shows closed, and why.
    await waitFor('the extensions door closed by the allowlist', async () => {
      await page.reload();
      const door = page.locator('#root-access li[data-door=extensions]');
      await door.waitFor();
      return (await door.innerText()).includes('closed by extensions.allowlist') ? true : undefined;
    });
    await page
      .locator('#local-security')
      .getByText('Microsoft.Azure.Monitor/AzureMonitorLinuxAgent')
      .waitFor();
    await page
      .locator('tr[data-extension=refused]')
      .getByText(/allowlist/)
      .first()
      .waitFor();
    await settled(page);
    await page.screenshot({ path: join(shots, 'machine.png'), fullPage: true });
    assert.deepEqual(await seriousViolations(page), []);

    // Access control: Carl gets Contributor on this machine, and is shown as able to run code.
    const access = page.getByRole('form', { name: 'Add role assignment' });
    await access.getByLabel(/User principal name/).fill('carl@contoso.example');
    await access.getByLabel('Role').selectOption({ label: 'Contributor' });
    await access.getByRole('button', { name: 'Assign' }).click();
    await access.getByText('Contributor assigned to carl@contoso.example.').waitFor();
    const carl = page.locator('#access-control tr', { hasText: 'Carl Contributor' });
    await carl.getByText('Yes: indirect administrator').waitFor();
    // The machine's root-access section follows at once: Carl reaches guest configuration.
    await page.locator('#root-access tr', { hasText: 'Carl Contributor' }).waitFor();
    const onMachine = await rootPrincipals(page);
    assert.equal(onMachine, 3, 'the bootstrap principal, Ada and Carl');

    // The fleet view counts the same principals for the machine.
    await page
      .getByRole('navigation', { name: 'Portal' })
      .getByRole('link', { name: 'Root access' })
      .click();
    const fleetRow = page.locator('main tr', { hasText: machineName() });
    await fleetRow.waitFor();
    assert.doesNotMatch(await fleetRow.innerText(), /Extensions/);
    assert.equal(await fleetRow.locator('td').last().innerText(), String(onMachine));
    await page.screenshot({ path: join(shots, 'root-access.png'), fullPage: true });
    assert.deepEqual(await seriousViolations(page), []);

    // Check access for Carl: found by name in the directory, his one grant, made right here.
    await openMachine(page);
    const check = page.getByRole('form', { name: 'Check access' });
    await check.getByLabel(/Name of a user/).fill('Carl');
    await check.getByRole('button', { name: 'Search' }).click();
    await page
      .getByRole('list', { name: 'Principals found' })
      .getByRole('button', { name: 'Carl Contributor' })
      .click();
    const checked = page.locator('#check-access section');
    await checked.getByRole('heading', { name: /Carl Contributor/ }).waitFor();
    const grants = checked.locator('tbody tr');
    assert.equal(await grants.count(), 1);
    assert.match(
      await grants.innerText(),
      /Contributor\s+this scope\s+direct\s+Yes: indirect administrator/,
    );
    await checked.getByText(/except .*Microsoft\.Authorization\/\*\/Write/).waitFor();
    await settled(page);
    await page.locator('#access-control').screenshot({ path: join(shots, 'access-control.png') });
    assert.deepEqual(await seriousViolations(page), []);

    // Remove Carl's role, which asks first; he then has neither access nor root here.
    await carl.getByRole('button', { name: 'Remove Contributor of Carl Contributor' }).click();
    const confirm = page.getByRole('alertdialog');
    await confirm.getByText(/Remove the Contributor role of Carl Contributor here\?/).waitFor();
    assert.deepEqual(await seriousViolations(page), []);
    await confirm.getByRole('button', { name: 'Yes, remove' }).click();
    await page.getByText('Contributor removed from Carl Contributor.').waitFor();
    await carl.waitFor({ state: 'detached' });
    await page
      .locator('#root-access tr', { hasText: 'Carl Contributor' })
      .waitFor({ state: 'detached' });
    assert.equal(await rootPrincipals(page), 2);
    // Removing the machine's own role says it cuts the machine off; Cancel keeps the role.
    await page
      .locator('#access-control')
      .getByRole('button', { name: /^Remove Tether Connected Machine of / })
      .click();
    await confirm.getByText(/the machine’s own identity/).waitFor();
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });

    // The extension repository: publishers, their types and versions, the deployed one among them.
    await page
      .getByRole('navigation', { name: 'Portal' })
      .getByRole('link', { name: 'Extension repository' })
      .click();
    const customScript = page.locator(
      '[data-extension-type="Microsoft.Azure.Extensions/CustomScript"]',
    );
    await customScript.getByRole('cell', { name: offered, exact: true }).waitFor();
    await settled(page);
    await page.screenshot({ path: join(shots, 'repository.png'), fullPage: true });
    assert.deepEqual(await seriousViolations(page), []);
    // Who published it is named as the directory names the Owner that ran tether extension publish.
    const principals = await fx.plane.admin.call('GET', '/v1.0/servicePrincipals');
    const publisher = (principals.body['value'] as { appId: string; displayName: string }[]).find(
      (p) => p.appId === fx.plane.appId,
    );
    assert.ok(publisher !== undefined, JSON.stringify(principals.body));
    const published = customScript.getByRole('row').filter({ hasText: offered });
    assert.equal(await published.locator('td').nth(2).innerText(), publisher.displayName);
    assert.equal(await published.locator('td').nth(2).getAttribute('title'), fx.plane.appId);

    // A resource with a long name, to see the activity log wrap it only where a path allows.
    const longGroup = 'portal_activity_group_named_at_length';
    const created = await fx.plane.admin.call(
      'PUT',
      `/subscriptions/${fx.plane.subscriptionId}/resourcegroups/${longGroup}?api-version=2021-04-01`,
      { body: { location: 'westeurope' } },
    );
    assert.ok(created.status < 300, JSON.stringify(created.body));

    // The activity log has the deployment, the refusal's operation and the role assignment.
    await page
      .getByRole('navigation', { name: 'Portal' })
      .getByRole('link', { name: 'Activity log' })
      .click();
    await page.getByText('Microsoft.Authorization/roleAssignments/write').first().waitFor();
    await page.getByText('Microsoft.HybridCompute/machines/extensions/write').first().waitFor();
    await settled(page);
    await page.screenshot({ path: join(shots, 'activity.png'), fullPage: true });
    assert.deepEqual(await seriousViolations(page), []);
    // The table fits the window: nothing makes the page scroll sideways.
    const overflow = await page.evaluate(() => {
      const { document, innerWidth } = globalThis as unknown as {
        document: { documentElement: { scrollWidth: number } };
        innerWidth: number;
      };
      return document.documentElement.scrollWidth - innerWidth;
    });
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the window`);
    // In a narrow window each part of a resource path stays whole: it wraps after a '/'.
    await page.setViewportSize({ width: 720, height: 900 });
    const path = page.locator('td .path', { hasText: longGroup }).first();
    const lines = await path.evaluate((span: unknown) => {
      // This package is typed without the DOM: the little used of it is described here.
      interface Text {
        nodeType: number;
        textContent: string | null;
      }
      const { document } = globalThis as unknown as {
        document: {
          createRange(): {
            selectNodeContents(node: Text): void;
            getClientRects(): ArrayLike<{ top: number }>;
          };
        };
      };
      const TEXT_NODE = 3;
      return Array.from((span as { childNodes: ArrayLike<Text> }).childNodes)
        .filter((node) => node.nodeType === TEXT_NODE && node.textContent !== '/')
        .map((node) => {
          const range = document.createRange();
          range.selectNodeContents(node);
          const tops = Array.from(range.getClientRects()).map((r) => Math.round(r.top));
          return { text: node.textContent, tops: [...new Set(tops)] };
        });
    });
    // Two parts, each whole on a line of its own: the break is after the '/'.
    assert.deepEqual(
      lines.map((part) => [part.text, part.tops.length]),
      [
        ['resourcegroups', 1],
        [longGroup, 1],
      ],
    );
    assert.ok((lines[1]?.tops[0] ?? 0) > (lines[0]?.tops[0] ?? 0), JSON.stringify(lines));
    await page.screenshot({ path: join(shots, 'activity-narrow.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });

    // Add a server: a fresh onboarding token and the one command that installs and connects.
    await page
      .getByRole('navigation', { name: 'Portal' })
      .getByRole('link', { name: 'Add a server' })
      .click();
    const add = page.getByRole('form', { name: 'Create an onboarding token' });
    await add.getByLabel('Resource group').fill('servers');
    await add.getByRole('button', { name: 'Create the install command' }).click();
    const command = await page.locator('pre.command').innerText();
    assert.match(command, /^sudo sh -c '/);
    assert.ok(command.includes(`'${fx.plane.url}'`), 'the command names the API');
    assert.ok(command.includes('-----BEGIN CERTIFICATE-----'), 'the command carries the CA');
    await page.screenshot({ path: join(shots, 'add-server.png'), fullPage: true });
    assert.deepEqual(await seriousViolations(page), []);

    // Sign out: the API ends the browser session, so the portal cannot sign in silently again.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.origin === portal);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.origin === fx.plane.url);
    assert.equal(
      await page.locator('input[name=password]').count(),
      1,
      'asked for the password again',
    );
    await context.close();
  });

  void it('a Reader sees no write control, and a write forced with their token is refused', async () => {
    const { context, page } = await signIn('rita@contoso.example');
    let token: string | undefined;
    page.on('request', (request) => {
      const header = request.headers()['authorization'];
      if (header?.startsWith('Bearer ') === true) token = header.slice('Bearer '.length);
    });
    await openMachine(page);
    await page.getByText('You can read this machine’s extensions', { exact: false }).waitFor();
    assert.equal(await page.getByRole('form', { name: 'Deploy CustomScript' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /^Remove / }).count(), 0);
    assert.equal(await page.getByRole('form', { name: 'Add role assignment' }).count(), 0);
    await settled(page);
    await page.screenshot({ path: join(shots, 'machine-reader.png'), fullPage: true });

    assert.ok(token !== undefined, 'the portal called the API with the reader token');
    const forced = await fx.plane.admin.call(
      'PUT',
      `${fx.agent.machinePath}/extensions/forced?api-version=2024-07-10`,
      {
        token,
        body: {
          location: 'westeurope',
          properties: {
            publisher: 'Microsoft.Azure.Extensions',
            type: 'CustomScript',
            settings: { commandToExecute: 'id' },
          },
        },
      },
    );
    assert.equal(forced.status, 403, JSON.stringify(forced.body));
    const removal = await fx.plane.admin.call(
      'DELETE',
      `${readerAssignment}?api-version=2022-04-01`,
      { token },
    );
    assert.equal(removal.status, 403, JSON.stringify(removal.body));
    await context.close();
  });
});
