// The stock Azure CLI (Debian's `azure-cli`) against a real control plane, the way an
// administrator uses it: one `az cloud register`, one `az login`, everyday commands, `az logout`.
// Tether and every `az` run inside a network namespace with nothing but loopback, so a single
// request meant for the public cloud (instance discovery, telemetry) would make a command fail.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startControlPlane, type ControlPlane } from '../harness/index.js';
import { TETHER_BIN } from '../harness/programs.js';

/** `az` on PATH, or undefined: the one reason this test may skip. */
function findAz(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v az'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const AZ = findAz();
const NAMESPACE = `tether-az-${process.pid}`;
const IN_NAMESPACE = ['ip', 'netns', 'exec', NAMESPACE];
const API = 'api-version=2022-12-27';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

void describe(
  'the Azure CLI against Tether',
  {
    skip: AZ === undefined && 'az is not installed (Debian package azure-cli); .ci/run installs it',
  },
  () => {
    let plane: ControlPlane;
    let home: string;
    let configDir: string;
    const timings: [string, number][] = [];

    /** A command inside the namespace with only the CA bundle and the CLI's config directory set. */
    function inNamespace(
      program: string,
      args: readonly string[],
      env: Record<string, string>,
    ): Promise<Run> {
      const started = performance.now();
      return new Promise((resolve) => {
        execFile(
          IN_NAMESPACE[0] ?? 'ip',
          [...IN_NAMESPACE.slice(1), program, ...args],
          {
            env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8', ...env },
            timeout: 120_000,
          },
          (error, stdout, stderr) => {
            const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
            resolve({ code, stdout, stderr, ms: performance.now() - started });
          },
        );
      });
    }

    async function az(...args: string[]): Promise<Run> {
      const run = await inNamespace('az', args, {
        AZURE_CONFIG_DIR: configDir,
        REQUESTS_CA_BUNDLE: plane.caCert,
      });
      timings.push([`az ${args.slice(0, 3).join(' ')}`, run.ms]);
      return run;
    }

    async function azJson<T>(...args: string[]): Promise<T> {
      const run = await az(...args, '--output', 'json');
      assert.equal(run.code, 0, `az ${args.join(' ')} exited ${run.code}:\n${run.stderr}`);
      return JSON.parse(run.stdout === '' ? 'null' : run.stdout) as T;
    }

    /** Every file the CLI keeps, with its contents. */
    async function configFiles(): Promise<Map<string, string>> {
      const files = new Map<string, string>();
      const walk = async (dir: string): Promise<void> => {
        for (const entry of await readdir(dir, { withFileTypes: true })) {
          const path = join(dir, entry.name);
          if (entry.isDirectory()) await walk(path);
          else files.set(path, await readFile(path, 'latin1'));
        }
      };
      await walk(configDir);
      return files;
    }

    before(async () => {
      execFileSync('ip', ['netns', 'add', NAMESPACE]);
      execFileSync('ip', ['netns', 'exec', NAMESPACE, 'ip', 'link', 'set', 'lo', 'up']);
      plane = await startControlPlane({ launcher: IN_NAMESPACE });
      home = await mkdtemp(join(tmpdir(), 'tether-az-home-'));
      configDir = join(home, 'azure-config');
    });

    after(async () => {
      await plane?.stop();
      execFileSync('ip', ['netns', 'delete', NAMESPACE]);
      if (home !== undefined) await rm(home, { recursive: true, force: true });
    });

    void it('registers the cloud, signs in, manages groups and resources and signs out', async (t) => {
      const started = performance.now();
      const routes = execFileSync('ip', [...IN_NAMESPACE.slice(1), 'ip', 'route', 'show'], {
        encoding: 'utf8',
      });
      assert.equal(routes.trim(), '', 'the namespace has no route off the machine');
      const url = plane.url;
      const sub = plane.subscriptionId;

      // Only the Resource Manager endpoint: the CLI reads everything else from /metadata/endpoints.
      const registered = await az(
        'cloud',
        'register',
        '--name',
        'Tether',
        '--endpoint-resource-manager',
        `${url}/`,
      );
      assert.equal(registered.code, 0, registered.stderr);
      await azJson('cloud', 'set', '--name', 'Tether');
      // What the CLI derived from the metadata: the AD FS-shaped authority and this server's audience.
      const clouds = await readFile(join(configDir, 'clouds.config'), 'utf8');
      for (const line of [
        `endpoint_active_directory = ${url}/adfs`,
        `endpoint_active_directory_resource_id = ${url}/`,
      ]) {
        assert.ok(clouds.split('\n').includes(line), `clouds.config has ${line}:\n${clouds}`);
      }

      const login = await azJson<{ id: string; tenantId: string }[]>(
        'login',
        '--service-principal',
        '--username',
        plane.appId,
        '--password',
        plane.password,
        '--tenant',
        plane.tenantId,
      );
      assert.deepEqual(
        login.map((s) => s.id),
        [sub],
      );
      const account = await azJson<{
        id: string;
        tenantId: string;
        user: { name: string; type: string };
      }>('account', 'show');
      assert.equal(account.id, sub);
      assert.equal(account.tenantId, plane.tenantId);
      assert.deepEqual(account.user, { name: plane.appId, type: 'servicePrincipal' });

      const group = await azJson<{ name: string; properties: { provisioningState: string } }>(
        'group',
        'create',
        '--name',
        'Arc-EU',
        '--location',
        'westeurope',
      );
      assert.equal(group.properties.provisioningState, 'Succeeded');
      assert.equal(await azJson<boolean>('group', 'exists', '--name', 'arc-eu'), true);
      assert.equal(await azJson<boolean>('group', 'exists', '--name', 'no-such-group'), false);
      const groups = await azJson<{ name: string }[]>('group', 'list');
      assert.ok(groups.some((g) => g.name === 'Arc-EU'));

      // Machines and extensions through `az rest`, the CLI's way to call any Resource Manager API.
      const machineUrl = `${url}/subscriptions/${sub}/resourceGroups/Arc-EU/providers/Microsoft.HybridCompute/machines/web1`;
      const machine = await azJson<{ id: string; type: string }>(
        'rest',
        '--method',
        'put',
        '--url',
        `${machineUrl}?${API}`,
        '--body',
        JSON.stringify({ location: 'westeurope' }),
      );
      assert.equal(machine.type, 'Microsoft.HybridCompute/machines');
      const publisherDir = join(home, 'publisher');
      const handlerDir = join(home, 'handler');
      await mkdir(handlerDir, { recursive: true });
      await writeFile(
        join(handlerDir, 'HandlerManifest.json'),
        JSON.stringify([
          {
            version: 1.0,
            handlerManifest: Object.fromEntries(
              [
                'installCommand',
                'enableCommand',
                'disableCommand',
                'uninstallCommand',
                'updateCommand',
              ].map((c) => [c, 'true']),
            ),
          },
        ]),
      );
      const tetherEnv = {
        TETHER_CONFIG_DIR: join(home, 'tether-cli'),
        AZURE_CLIENT_ID: plane.appId,
        AZURE_CLIENT_SECRET: plane.password,
        AZURE_TENANT_ID: plane.tenantId,
        AZURE_SUBSCRIPTION_ID: sub,
        TETHER_ENDPOINT: url,
        TETHER_CA_CERT: plane.caCert,
      };
      for (const args of [
        ['extension', 'keygen', '--out', publisherDir],
        [
          'extension',
          'publish',
          '--dir',
          handlerDir,
          '--publisher',
          'Contoso',
          '--type',
          'Probe',
          '--version',
          '1.0',
          '--key',
          join(publisherDir, 'publisher.key'),
        ],
      ]) {
        const run = await inNamespace(process.execPath, [TETHER_BIN, ...args], tetherEnv);
        assert.equal(run.code, 0, `tether ${args.join(' ')}: ${run.stderr}`);
      }
      const extension = await azJson<{ name: string; properties: { publisher: string } }>(
        'rest',
        '--method',
        'put',
        '--url',
        `${machineUrl}/extensions/probe?${API}`,
        '--body',
        JSON.stringify({
          location: 'westeurope',
          properties: { publisher: 'Contoso', type: 'Probe', typeHandlerVersion: '1.0' },
        }),
      );
      assert.equal(extension.properties.publisher, 'Contoso');
      const extensions = await azJson<{ value: { name: string }[] }>(
        'rest',
        '--url',
        `${machineUrl}/extensions?${API}`,
      );
      assert.deepEqual(
        extensions.value.map((e) => e.name),
        ['probe'],
      );

      const everything = await azJson<{ name: string; type: string; resourceGroup: string }[]>(
        'resource',
        'list',
      );
      assert.deepEqual(
        everything.map((r) => [r.name, r.type]),
        [
          ['web1', 'Microsoft.HybridCompute/machines'],
          ['web1/probe', 'Microsoft.HybridCompute/machines/extensions'],
        ],
      );
      const inGroup = await azJson<{ name: string }[]>(
        'resource',
        'list',
        '--resource-group',
        'Arc-EU',
      );
      assert.deepEqual(
        inGroup.map((r) => r.name),
        ['web1', 'web1/probe'],
      );
      const provider = await azJson<{
        registrationState: string;
        resourceTypes: { resourceType: string; apiVersions: string[] }[];
      }>('provider', 'show', '--namespace', 'Microsoft.HybridCompute');
      assert.equal(provider.registrationState, 'Registered');
      const machines = provider.resourceTypes.find((r) => r.resourceType === 'machines');
      assert.ok(machines?.apiVersions.includes('2022-12-27'), JSON.stringify(machines));

      // Debian's `az role` commands crash on an SDK mismatch before sending anything; the same
      // grant through `az rest`: a new service principal (Graph) made Reader of the group by appId.
      const sp = await azJson<{ id: string; appId: string }>(
        'rest',
        '--method',
        'post',
        '--url',
        `${url}/v1.0/servicePrincipals`,
        '--resource',
        `${url}/`,
        '--body',
        JSON.stringify({ displayName: 'az-reader' }),
      );
      // With Graph named (the one endpoint the metadata cannot fill in), `az ad` finds the
      // principal by its appId, through servicePrincipalNames/any().
      await azJson(
        'cloud',
        'update',
        '--cloud-config',
        JSON.stringify({ endpoints: { microsoftGraphResourceId: `${url}/` } }),
      );
      const shown = await azJson<{ id: string; displayName: string }>(
        'ad',
        'sp',
        'show',
        '--id',
        sp.appId,
      );
      assert.deepEqual([shown.id, shown.displayName], [sp.id, 'az-reader']);
      const readerId = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
      const groupScope = `/subscriptions/${sub}/resourceGroups/Arc-EU`;
      const assignment = await azJson<{
        properties: { principalId: string; principalType: string };
      }>(
        'rest',
        '--method',
        'put',
        '--url',
        `${url}${groupScope}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`,
        '--body',
        JSON.stringify({
          properties: {
            roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${readerId}`,
            principalId: sp.appId,
          },
        }),
      );
      assert.equal(
        assignment.properties.principalId,
        sp.id,
        'the appId is resolved to the object id',
      );
      assert.equal(assignment.properties.principalType, 'ServicePrincipal');

      const deleted = await az('group', 'delete', '--name', 'Arc-EU', '--yes');
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.equal(await azJson<boolean>('group', 'exists', '--name', 'Arc-EU'), false);
      assert.deepEqual(await azJson<unknown[]>('resource', 'list'), []);

      // Signing out forgets the client secret; clearing also drops the cached access token.
      const before = await configFiles();
      assert.ok(
        [...before.values()].some((text) => text.includes(plane.password)),
        'the secret was stored while signed in',
      );
      const logout = await az('logout');
      assert.equal(logout.code, 0, logout.stderr);
      for (const [path, text] of await configFiles()) {
        assert.ok(!text.includes(plane.password), `${path} still holds the client secret`);
      }
      const cleared = await az('account', 'clear');
      assert.equal(cleared.code, 0, cleared.stderr);
      for (const [path, text] of await configFiles()) {
        assert.ok(
          !/"secret":\s*"ey/.test(text) && !/"AccessToken":\s*\{\s*"/.test(text),
          `${path} still holds an access token`,
        );
      }
      const total = (performance.now() - started) / 1000;
      t.diagnostic(`${timings.length} commands in ${total.toFixed(1)} s`);
      for (const [command, ms] of timings) t.diagnostic(`${(ms / 1000).toFixed(1)} s  ${command}`);
    });
  },
);
