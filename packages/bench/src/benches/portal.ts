/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The portal's machines page over 10,000 machines in headless Chromium (Debian's package): the
// real `tether server` serving the portal and the API, a person signed in, and the time from a
// click until the page's rows are on screen — beside the same browser loading a static HTML page
// of the very same rows from a loopback server (the floor). Also the JavaScript and CSS the
// portal ships, compressed as the server sends them.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { chromium, type Page } from 'playwright-core';
import { openDatabase } from '@tether/control-plane/store/open-database';
import { dataDirPaths } from '@tether/control-plane/server/data-dir';
import { seedMachines } from '../fixtures/seed-machines.js';
import { report, summarize } from '../stats.js';
import { exited, listening, runTether, TETHER_BIN } from '../tether-process.js';

const MACHINES = 10_000;
const GROUPS = 20;
const ROUNDS = 15;
const PAGE_ROWS = 50;
const PASSWORD = 'correct horse battery staple';
const CHROMIUM = process.env['TETHER_CHROMIUM'] ?? '/usr/bin/chromium';
const SITE_DIR = join(TETHER_BIN, '..', '..', '..', 'portal', 'dist', 'site');

interface Init {
  tenantId: string;
  subscriptionId: string;
  appId: string;
  password: string;
  caCert: string;
}

export async function run(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'tether-bench-portal-'));
  const dataDir = join(root, 'data');
  const init = JSON.parse(await runTether(['init', '--data-dir', dataDir, '--json'])) as Init;
  await seed(dataDir, init.subscriptionId);
  const server = spawn(
    process.execPath,
    [
      TETHER_BIN,
      'server',
      '--data-dir',
      dataDir,
      '--listen',
      '127.0.0.1:0',
      '--portal-listen',
      '127.0.0.1:0',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const floorServer = createServer();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
  try {
    let portal = '';
    server.stdout.on('data', (chunk: Buffer) => {
      portal ||= /tether portal on (https:\/\/\S+)/.exec(String(chunk))?.[1] ?? '';
    });
    const api = await listening(server, /tether listening on (https:\/\/\S+)/);
    const ca = readFileSync(init.caCert, 'utf8');
    const call = callerFor(api, ca);
    const admin = await token(call, init);
    const user = await call('POST', '/v1.0/users', admin, {
      displayName: 'Bench Reader',
      userPrincipalName: 'reader@bench.test',
      passwordProfile: { password: PASSWORD },
    });
    const sub = `/subscriptions/${init.subscriptionId}`;
    await call(
      'PUT',
      `${sub}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}?api-version=2022-04-01`,
      admin,
      {
        properties: {
          roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`,
          principalId: user['id'],
        },
      },
    );

    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(portal);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.origin === api);
    await page.fill('input[name=username]', 'reader@bench.test');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();

    // The rows the portal shows first, for the floor page: the same names, cells and count.
    const firstRows = await page.evaluate(async () => {
      const link = document.querySelector<HTMLAnchorElement>('nav.side a[href="/machines"]');
      link?.click();
      for (;;) {
        const rows = document.querySelectorAll('table.machines tbody tr');
        if (rows.length > 0) return [...rows].map((r) => r.outerHTML);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    const floorHtml = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Machines</title></head><body><table class="machines"><tbody>${firstRows.join('')}</tbody></table></body></html>`;
    floorServer.on('request', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(floorHtml);
    });
    await new Promise<void>((resolve) => floorServer.listen(0, '127.0.0.1', resolve));
    const floorUrl = `http://127.0.0.1:${(floorServer.address() as AddressInfo).port}/`;

    const floorPage = await context.newPage();
    const navigation: number[] = [];
    const filtered: number[] = [];
    const floor: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      floor.push(await timeStaticPage(floorPage, floorUrl));
      await page.bringToFront();
      await page.locator('nav.side a[href="/"]').click();
      await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
      // The overview's own requests done, so the machines page is timed alone.
      await page.locator('.stat-list .stat').first().waitFor();
      await page.locator('main table tbody tr').first().waitFor();
      navigation.push(await timeClickToRows(page, 'nav.side a[href="/machines"]', PAGE_ROWS));
      // Sorting by status, newest change first, over all 10,000: a new server-side query.
      filtered.push(await timeClickToRows(page, 'table.machines th button >> nth=1', PAGE_ROWS));
    }
    const nav = summarize(navigation);
    const sorted = summarize(filtered);
    const base = summarize(floor);
    const shipped = shippedBytes();
    report(
      `portal: machines page with ${MACHINES.toLocaleString('en')} machines (headless Chromium, ${ROUNDS} rounds)`,
      [
        {
          metric: `machines page shown, ${PAGE_ROWS} rows (p50)`,
          value: nav.p50,
          unit: 'ms',
          floor: base.p50,
          target: '<= 3x floor',
        },
        {
          metric: 'machines page shown (p99)',
          value: nav.p99,
          unit: 'ms',
          floor: base.p99,
        },
        {
          metric: 're-sorted by status over all machines (p50)',
          value: sorted.p50,
          unit: 'ms',
          floor: base.p50,
          target: '<= 3x floor',
        },
        {
          metric: 'JavaScript shipped, brotli',
          value: shipped.jsBrotli / 1024,
          unit: 'KiB',
          target: '< 300 KB',
        },
        {
          metric: 'JavaScript shipped, gzip',
          value: shipped.jsGzip / 1024,
          unit: 'KiB',
          target: '< 300 KB',
        },
        { metric: 'CSS shipped, brotli', value: shipped.cssBrotli / 1024, unit: 'KiB' },
        { metric: 'JavaScript shipped, uncompressed', value: shipped.js / 1024, unit: 'KiB' },
      ],
    );
    console.log(
      `floor: the same browser loading a static HTML page of the same ${firstRows.length} rows from a loopback server.`,
    );
    await context.close();
  } finally {
    await browser.close();
    floorServer.close();
    server.kill('SIGTERM');
    await exited(server);
    await rm(root, { recursive: true, force: true });
  }
}

/** From the click until `rows` rows of the machines table are in the document. */
async function timeClickToRows(page: Page, selector: string, rows: number): Promise<number> {
  const before = await page.evaluate(() =>
    [...document.querySelectorAll('table.machines tbody tr')].map((r) => r.textContent).join(),
  );
  const start = performance.now();
  await page.click(selector);
  await page.waitForFunction(
    ({ rows, before }) => {
      const found = document.querySelectorAll('table.machines tbody tr');
      return found.length >= rows && [...found].map((r) => r.textContent).join() !== before;
    },
    { rows, before },
    { polling: 'raf' },
  );
  return performance.now() - start;
}

/** From the navigation until the static page's rows are in the document. */
async function timeStaticPage(page: Page, url: string): Promise<number> {
  await page.bringToFront();
  await page.goto('about:blank');
  const start = performance.now();
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForFunction(
    () => document.querySelectorAll('table tbody tr').length >= 50,
    undefined,
    {
      polling: 'raf',
    },
  );
  return performance.now() - start;
}

function shippedBytes(): { js: number; jsBrotli: number; jsGzip: number; cssBrotli: number } {
  const files = readdirSync(SITE_DIR);
  const read = (ext: string) =>
    Buffer.concat(files.filter((f) => f.endsWith(ext)).map((f) => readFileSync(join(SITE_DIR, f))));
  const js = read('.js');
  const css = read('.css');
  const brotli = (b: Buffer) =>
    brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  return {
    js: js.length,
    jsBrotli: brotli(js),
    jsGzip: gzipSync(js, { level: 9 }).length,
    cssBrotli: brotli(css),
  };
}

/** 10,000 machines in 20 groups, each third Connected, one in ten a Windows server, tagged. */
async function seed(dataDir: string, subscriptionId: string): Promise<void> {
  const db = await openDatabase({ kind: 'sqlite', file: dataDirPaths(dataDir).database });
  const now = Date.now();
  try {
    await seedMachines(db, subscriptionId, {
      machines: MACHINES,
      groups: GROUPS,
      now,
      tags: (i) => ({ role: i % 3 === 0 ? 'db' : 'web' }),
      properties: (i) =>
        i % 10 === 0
          ? { osName: 'windows', osType: 'windows', osVersion: '10.0.20348' }
          : { osName: 'ubuntu', osType: 'linux', osVersion: '24.04' },
      // A third heard from a minute ago; the rest silent for a day (Disconnected).
      lastHeartbeatAt: (i) => now - (i % 3 === 0 ? 60_000 : 86_400_000),
      report: (i) =>
        JSON.stringify({ agentVersion: '1.40.0', machineFqdn: `node-${i}.bench.test` }),
    });
  } finally {
    await db.destroy();
  }
}

type Call = (
  method: string,
  path: string,
  bearer: string | undefined,
  body?: unknown,
  form?: Record<string, string>,
) => Promise<Record<string, unknown>>;

function callerFor(base: string, ca: string): Call {
  return (method, path, bearer, body, form) =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      if (bearer !== undefined) headers['authorization'] = `Bearer ${bearer}`;
      const payload =
        form !== undefined
          ? new URLSearchParams(form).toString()
          : body === undefined
            ? undefined
            : JSON.stringify(body);
      if (payload !== undefined)
        headers['content-type'] =
          form !== undefined ? 'application/x-www-form-urlencoded' : 'application/json';
      const req = request(new URL(path, base), { method, headers, ca }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => {
          if ((res.statusCode ?? 500) >= 300)
            reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
          else resolve(text === '' ? {} : (JSON.parse(text) as Record<string, unknown>));
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
}

async function token(call: Call, init: Init): Promise<string> {
  const answer = await call('POST', `/${init.tenantId}/oauth2/v2.0/token`, undefined, undefined, {
    grant_type: 'client_credentials',
    client_id: init.appId,
    client_secret: init.password,
    scope: 'https://management.azure.com/.default',
  });
  return String(answer['access_token']);
}
