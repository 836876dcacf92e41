// Extensions end to end with real processes: the unmodified Azure SDK deploys CustomScript to a
// connected agent and removes it; protected settings are nowhere in clear outside the handler's
// own settings file; a request made while the agent's extension service is stopped completes
// when it starts again; one it never picks up fails after the request timeout with its reason.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  API,
  CUSTOM_SCRIPT,
  customScriptVersion,
  propertiesOf,
  startExtensionFixture,
  statusMessageOf,
  waitFor,
  type ExtensionFixture,
} from './extension-fixture.js';

const ROOT_ONLY = process.geteuid?.() === 0 ? false : 'azcmagent connect needs root';
/** Short enough to watch a request expire; long enough for a restart to beat it. */
const REQUEST_TIMEOUT = '12s';

/** Every regular file under dir, recursively. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map((entry) => join(dir, String(entry)))
    .filter((path) => {
      try {
        return statSync(path).isFile();
      } catch {
        return false; // removed while we looked
      }
    });
}

void describe('extensions end to end', { skip: ROOT_ONLY, timeout: 300_000 }, () => {
  let fx: ExtensionFixture;

  before(async () => {
    fx = await startExtensionFixture({
      serverArgs: ['--extension-request-timeout', REQUEST_TIMEOUT],
    });
  });
  after(async () => {
    await fx?.stop();
  });

  void it('the Azure SDK drives CustomScript to Succeeded on the server and removes it again', async () => {
    const version = customScriptVersion();
    const deployed = await fx.deploy('hello', {
      ...CUSTOM_SCRIPT,
      typeHandlerVersion: version.split('.').slice(0, 2).join('.'),
      settings: { commandToExecute: 'echo hello from the control plane' },
    });
    assert.ok(deployed.ok, JSON.stringify(deployed.error));
    assert.equal(deployed.result?.properties?.provisioningState, 'Succeeded');
    assert.match(
      deployed.result?.properties?.instanceView?.status?.message ?? '',
      /hello from the control plane/,
    );

    const handlerDir = join(
      fx.agent.root,
      `var/lib/waagent/${CUSTOM_SCRIPT.publisher}.${CUSTOM_SCRIPT.type}-${version}`,
    );
    assert.ok(existsSync(join(handlerDir, 'HandlerManifest.json')));
    assert.ok(existsSync(join(handlerDir, 'HandlerEnvironment.json')));
    const listed = await fx.azcmagent('extension', 'list', '--json');
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /"hello"/);

    const removed = await fx.remove('hello');
    assert.ok(removed.ok, JSON.stringify(removed.error));
    assert.equal((await fx.get('hello')).status, 404);
    assert.ok(!existsSync(handlerDir), 'the handler folder is gone after removal');
    const relisted = await fx.azcmagent('extension', 'list', '--json');
    assert.doesNotMatch(relisted.stdout, /"hello"/);
  });

  void it('keeps protected settings out of the database, the API and every log', async () => {
    const secret = `tether-secret-${randomUUID()}`;
    const deployed = await fx.deploy('private', {
      ...CUSTOM_SCRIPT,
      typeHandlerVersion: customScriptVersion(),
      protectedSettings: { commandToExecute: `true ${secret}` },
    });
    assert.ok(deployed.ok, JSON.stringify(deployed.error));
    assert.equal(deployed.result?.properties?.provisioningState, 'Succeeded');

    // The one place it exists in clear: the handler's settings file, readable by root only.
    const handlerDir = join(
      fx.agent.root,
      `var/lib/waagent/${CUSTOM_SCRIPT.publisher}.${CUSTOM_SCRIPT.type}-${customScriptVersion()}`,
    );
    const settingsFiles = filesUnder(join(handlerDir, 'config')).filter((f) =>
      f.endsWith('.settings'),
    );
    assert.ok(settingsFiles.length > 0, 'the handler got a settings file');
    for (const file of settingsFiles) {
      assert.equal(statSync(file).mode & 0o777, 0o600, `${file} is readable by root only`);
    }
    assert.ok(settingsFiles.some((f) => readFileSync(f, 'utf8').includes(secret)));

    // The database (with its WAL) holds the activity log too, so the file scan below covers it.
    const answers = [
      await fx.get('private'),
      await fx.plane.admin.call('GET', `${fx.agent.machinePath}/extensions?${API}`),
    ];
    for (const answer of answers) {
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.ok(!JSON.stringify(answer.body).includes(secret), 'an API answer holds the secret');
    }
    const clearText = Buffer.from(secret);
    const suspects = [
      ...filesUnder(fx.plane.dataDir),
      ...filesUnder(fx.agent.root).filter((f) => !settingsFiles.includes(f)),
    ];
    assert.ok(suspects.length > 10);
    for (const file of suspects) {
      assert.ok(!readFileSync(file).includes(clearText), `${file} holds the secret in clear`);
    }
    assert.ok(!fx.plane.logs().includes(secret), 'the control plane logged the secret');
    assert.ok(!fx.agent.logs().includes(secret), 'an agent service logged the secret');

    const removed = await fx.remove('private');
    assert.ok(removed.ok, JSON.stringify(removed.error));
  });

  void it('masks a protected setting the handler prints before it leaves the machine', async () => {
    const secret = `TOPSECRET-${randomUUID()}`;
    const handlerDir = join(
      fx.agent.root,
      `var/lib/waagent/${CUSTOM_SCRIPT.publisher}.${CUSTOM_SCRIPT.type}-${customScriptVersion()}`,
    );
    const put = await fx.plane.admin.call('PUT', fx.extensionPath('printer'), {
      body: {
        location: 'westeurope',
        properties: {
          ...CUSTOM_SCRIPT,
          typeHandlerVersion: customScriptVersion(),
          // A script that prints a credential it was given, as careless ones do.
          protectedSettings: {
            commandToExecute: `grep -ho 'TOPSECRET-[0-9a-f-]\\{36\\}' ${handlerDir}/config/*.settings`,
            apiToken: secret,
          },
        },
      },
    });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    const operation = new URL(String(put.headers['azure-asyncoperation']));
    const operationPath = `${operation.pathname}${operation.search}`;
    const done = await waitFor('the operation to finish', async () => {
      const answer = await fx.plane.admin.call('GET', operationPath);
      return answer.body['status'] === 'InProgress' ? undefined : answer;
    });
    assert.equal(done.body['status'], 'Succeeded', JSON.stringify(done.body));
    const got = await fx.get('printer');
    // The handler did print it: the report carries the output with the value hidden.
    assert.match(statusMessageOf(got.body), /\[stdout\]\n\*\*\*\n/);

    const activity = await fx.plane.admin.call(
      'GET',
      `${fx.agent.machinePath.split('/resourceGroups/')[0]}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=${encodeURIComponent("eventTimestamp ge '2000-01-01T00:00:00Z'")}`,
    );
    assert.equal(activity.status, 200, JSON.stringify(activity.body));
    const listed = await fx.azcmagent('extension', 'list', '--json');
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /"printer"/);
    for (const [what, text] of [
      ['the extension GET', JSON.stringify(got.body)],
      ['the operation status', JSON.stringify(done.body)],
      ['the activity log', JSON.stringify(activity.body)],
      ['azcmagent extension list', listed.stdout],
      ['the control plane log', fx.plane.logs()],
    ] as const) {
      assert.ok(!text.includes(secret), `${what} holds the secret`);
    }
    const clearText = Buffer.from(secret);
    const database = filesUnder(fx.plane.dataDir);
    assert.ok(database.length > 0);
    for (const file of database) {
      assert.ok(!readFileSync(file).includes(clearText), `${file} holds the secret in clear`);
    }

    const removed = await fx.remove('printer');
    assert.ok(removed.ok, JSON.stringify(removed.error));
  });

  void it('completes a request made while the extension service was stopped once it starts', async () => {
    await fx.agent.stopExtensionService();
    const put = await fx.plane.admin.call('PUT', fx.extensionPath('later'), {
      body: {
        location: 'westeurope',
        properties: {
          ...CUSTOM_SCRIPT,
          typeHandlerVersion: customScriptVersion(),
          settings: { commandToExecute: 'echo picked up later' },
        },
      },
    });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    const operation = new URL(String(put.headers['azure-asyncoperation']));
    const operationPath = `${operation.pathname}${operation.search}`;
    await new Promise((r) => setTimeout(r, 1_500));
    const waiting = await fx.plane.admin.call('GET', operationPath);
    assert.equal(waiting.body['status'], 'InProgress');

    await fx.agent.startExtensionService();
    const done = await waitFor('the operation to finish', async () => {
      const answer = await fx.plane.admin.call('GET', operationPath);
      return answer.body['status'] === 'InProgress' ? undefined : answer.body;
    });
    assert.equal(done['status'], 'Succeeded', JSON.stringify(done));
    const got = await fx.get('later');
    assert.equal(propertiesOf(got.body)['provisioningState'], 'Succeeded');
    assert.match(statusMessageOf(got.body), /picked up later/);
  });

  void it('fails a request the machine never picks up, saying why', async () => {
    await fx.agent.stopExtensionService();
    try {
      const put = await fx.plane.admin.call('PUT', fx.extensionPath('never'), {
        body: {
          location: 'westeurope',
          properties: {
            ...CUSTOM_SCRIPT,
            typeHandlerVersion: customScriptVersion(),
            settings: { commandToExecute: 'echo never' },
          },
        },
      });
      assert.equal(put.status, 201, JSON.stringify(put.body));
      const operation = new URL(String(put.headers['azure-asyncoperation']));
      const failed = await waitFor(
        'the request to expire',
        async () => {
          const answer = await fx.plane.admin.call(
            'GET',
            `${operation.pathname}${operation.search}`,
          );
          return answer.body['status'] === 'InProgress' ? undefined : answer.body;
        },
        40_000,
      );
      assert.equal(failed['status'], 'Failed');
      const error = failed['error'] as { code?: string; message?: string };
      assert.equal(error.code, 'MachineNotReached');
      assert.match(error.message ?? '', /last|never/i);
      assert.equal(propertiesOf((await fx.get('never')).body)['provisioningState'], 'Failed');
    } finally {
      await fx.agent.startExtensionService();
    }
  });
});
