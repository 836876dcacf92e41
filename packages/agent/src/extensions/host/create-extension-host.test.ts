// The handler lifecycle through the real host: signed packages, shell-script handlers, the files
// of the handler contract where SPEC §4 puts them, and the exact order of handler calls.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { alive, harness, PUBLISHER, TYPE, waitFor } from './testing/host-test-harness.js';

const folder = (version: string): string => `${PUBLISHER}.${TYPE}-${version}`;

void describe('extension host lifecycle', () => {
  void test('install → enable: handler files where the contract says, status from the handler', async () => {
    const h = harness();
    try {
      await h.publish('1.0.0', { enable: 'env > enable-env.txt; ' + successStatus() });
      const outcome = await h.host.apply(
        h.desired('1.0.0', 3, { protectedSettings: { password: 'p4ss-SECRET-value' } }),
        h.fetch,
      );
      assert.equal(outcome.result, 'Succeeded', JSON.stringify(outcome));
      assert.equal(outcome.status.message, 'enabled by the handler');
      assert.deepEqual(h.calls(), ['1.0.0 install seq=3', '1.0.0 enable seq=3']);

      const dir = h.temp.paths.extensionDir(PUBLISHER, TYPE, '1.0.0');
      const logFolder = join(h.temp.paths.extensionLogsDir, `${PUBLISHER}.${TYPE}`);
      const environment: unknown = JSON.parse(
        readFileSync(join(dir, 'HandlerEnvironment.json'), 'utf8'),
      );
      assert.deepEqual(environment, [
        {
          name: `${PUBLISHER}.${TYPE}`,
          version: 1,
          handlerEnvironment: {
            logFolder,
            configFolder: join(dir, 'config'),
            statusFolder: join(dir, 'status'),
            heartbeatFile: join(dir, 'heartbeat.log'),
          },
        },
      ]);
      assert.match(readFileSync(join(dir, 'HandlerEnvironment.json'), 'utf8'), /"version":1\.0/);
      const settingsFile = join(dir, 'config/3.settings');
      assert.equal(statSync(settingsFile).mode & 0o777, 0o600);
      assert.equal(
        statSync(h.temp.paths.extensionStateFile).mode & 0o777,
        0o600,
        'statuses carry handler output: root only',
      );
      assert.deepEqual(JSON.parse(readFileSync(settingsFile, 'utf8')), {
        runtimeSettings: [
          {
            handlerSettings: {
              publicSettings: { commandToExecute: 'echo hi' },
              protectedSettings: { password: 'p4ss-SECRET-value' },
              protectedSettingsCertThumbprint: null,
            },
          },
        ],
      });
      assert.equal(statSync(join(dir, 'handler.sh')).mode & 0o777, 0o755, 'exec bit kept');
      assert.equal(statSync(join(dir, 'HandlerManifest.json')).mode & 0o777, 0o644);
      assert.ok(existsSync(join(logFolder, 'CommandExecution.log')));
      assert.ok(existsSync(join(h.temp.paths.downloadsDir, `${folder('1.0.0')}.zip`)));

      const env = readFileSync(join(dir, 'enable-env.txt'), 'utf8');
      assert.match(env, /^ConfigSequenceNumber=3$/m);
      assert.match(
        env,
        /^IDENTITY_ENDPOINT=http:\/\/127\.0\.0\.1:40999\/metadata\/identity\/oauth2\/token$/m,
      );
      assert.match(env, /^IMDS_ENDPOINT=http:\/\/127\.0\.0\.1:40999$/m);
      assert.match(env, /^TETHER_ENDPOINT=https:\/\/tether\.example:8443$/m);
      assert.match(env, /^TETHER_RESOURCE_ID=\/subscriptions\/s1\/.*\/machines\/m1$/m);
      assert.match(env, /^NODE_EXTRA_CA_CERTS=\/etc\/tether\/ca\.crt$/m);
      assert.ok(env.includes(`PATH=${join(process.execPath, '..')}:`), 'PATH starts with node');
      assert.doesNotMatch(env, /AZURE_CLIENT_SECRET|leaked-secret/);

      const [record] = h.host.installed();
      assert.equal(record?.state, 'enabled');
      assert.equal(record?.version, '1.0.0');
      assert.equal(record?.sequence, 3);

      // Protected settings are in the 0600 settings file and nowhere else the agent writes.
      const holders = filesContaining(h.temp.root, 'p4ss-SECRET-value');
      assert.deepEqual(holders, [settingsFile]);
    } finally {
      await h.remove();
    }
  });

  void test('same version, new sequence → enable only; older settings files are deleted', async () => {
    const h = harness();
    try {
      await h.publish('1.0.0');
      assert.equal((await h.host.apply(h.desired('1.0.0', 1), h.fetch)).result, 'Succeeded');
      assert.equal((await h.host.apply(h.desired('1.0.0', 2), h.fetch)).result, 'Succeeded');
      assert.equal((await h.host.apply(h.desired('1.0.0', 2), h.fetch)).result, 'Succeeded');
      assert.deepEqual(h.calls(), [
        '1.0.0 install seq=1',
        '1.0.0 enable seq=1',
        '1.0.0 enable seq=2',
      ]);
      assert.equal(h.fetch.calls.length, 1, 'downloaded once');
      const config = join(h.temp.paths.extensionDir(PUBLISHER, TYPE, '1.0.0'), 'config');
      assert.deepEqual(readdirSync(config), ['2.settings']);
    } finally {
      await h.remove();
    }
  });

  void test('new version: disable old → update new → uninstall old → enable new', async () => {
    const h = harness();
    try {
      await h.publish('1.0.0');
      await h.publish('2.0.0');
      assert.equal((await h.host.apply(h.desired('1.0.0', 1), h.fetch)).result, 'Succeeded');
      const outcome = await h.host.apply(h.desired('2.0.0', 2), h.fetch);
      assert.equal(outcome.result, 'Succeeded', JSON.stringify(outcome));
      assert.deepEqual(h.calls(), [
        '1.0.0 install seq=1',
        '1.0.0 enable seq=1',
        '1.0.0 disable seq=1',
        '2.0.0 update seq=2',
        '1.0.0 uninstall seq=1',
        '2.0.0 enable seq=2',
      ]);
      assert.deepEqual(readdirSync(h.temp.paths.extensionsDir), [folder('2.0.0')]);
      assert.equal(h.host.installed()[0]?.version, '2.0.0');
    } finally {
      await h.remove();
    }
  });

  void test('a failing disable of the old version keeps it and reports the failure', async () => {
    const h = harness();
    try {
      await h.publish('1.0.0', { disable: 'echo cannot-stop; exit 4' });
      await h.publish('2.0.0');
      await h.host.apply(h.desired('1.0.0', 1), h.fetch);
      const outcome = await h.host.apply(h.desired('2.0.0', 2), h.fetch);
      assert.equal(outcome.result, 'Failed');
      assert.equal(outcome.error?.code, 'ERR_EXTENSION_COMMAND_FAILED');
      assert.match(
        outcome.error?.message ?? '',
        /disable command .* exited with code 4.*cannot-stop/,
      );
      assert.deepEqual(readdirSync(h.temp.paths.extensionsDir), [folder('1.0.0')]);
      assert.equal(h.host.installed()[0]?.version, '1.0.0');
      assert.equal(h.host.installed()[0]?.state, 'failed');
    } finally {
      await h.remove();
    }
  });

  void test('remove: disable → uninstall → folder deleted; local removal keeps a record until forgotten', async () => {
    const h = harness();
    try {
      await h.publish('1.0.0');
      await h.host.apply(h.desired('1.0.0', 1), h.fetch);
      const outcome = await h.host.remove('probe');
      assert.equal(outcome.result, 'Succeeded');
      assert.deepEqual(h.calls().slice(2), ['1.0.0 disable seq=1', '1.0.0 uninstall seq=1']);
      assert.deepEqual(readdirSync(h.temp.paths.extensionsDir), []);
      assert.deepEqual(h.host.installed(), []);
      assert.equal((await h.host.remove('probe')).result, 'Succeeded', 'absent → Succeeded');

      await h.host.apply(h.desired('1.0.0', 2), h.fetch);
      assert.equal((await h.host.remove('probe', { local: true })).result, 'Succeeded');
      const [record] = h.host.installed();
      assert.ok(record?.removedLocallyAt !== undefined);
      assert.equal(record.state, 'disabled');
      assert.deepEqual(readdirSync(h.temp.paths.extensionsDir), []);
      h.host.forget('probe');
      assert.deepEqual(h.host.installed(), []);
    } finally {
      await h.remove();
    }
  });

  void test('a name that is an object member (constructor, __proto__) is simply not installed', async () => {
    const h = harness();
    try {
      await h.publish('1.0.0');
      await h.host.apply(h.desired('1.0.0', 1), h.fetch);
      for (const name of ['constructor', '__proto__', 'toString']) {
        const outcome = await h.host.remove(name);
        assert.equal(outcome.result, 'Succeeded');
        assert.match(outcome.status.message, /is not installed/);
      }
      assert.deepEqual(
        h.host.installed().map((e) => e.name),
        ['probe'],
      );
      assert.equal(readdirSync(h.temp.paths.extensionsDir).length, 1, 'probe is untouched');
    } finally {
      await h.remove();
    }
  });

  void test('a non-zero enable is Failed with the exit code and the tail of its output', async () => {
    const h = harness();
    try {
      await h.publish('1.0.0', { enable: 'echo first-line; echo boom-at-the-end >&2; exit 3' });
      const outcome = await h.host.apply(h.desired('1.0.0', 1), h.fetch);
      assert.equal(outcome.result, 'Failed');
      assert.equal(outcome.error?.code, 'ERR_EXTENSION_COMMAND_FAILED');
      assert.match(outcome.error?.message ?? '', /enable command .*exited with code 3/);
      assert.match(outcome.error?.message ?? '', /boom-at-the-end/);
      assert.equal(outcome.status.level, 'Error');
      assert.equal(h.host.installed()[0]?.state, 'failed');
    } finally {
      await h.remove();
    }
  });

  void test("a handler's error status fails the operation with its message; warning succeeds", async () => {
    const h = harness();
    try {
      await h.publish('1.0.0', { enable: statusCommand('error', 'disk is full') });
      await h.publish('1.1.0', { enable: statusCommand('warning', 'half done') });
      await h.publish('1.2.0', { enable: 'true' });
      const error = await h.host.apply(h.desired('1.0.0', 1), h.fetch);
      assert.equal(error.result, 'Failed');
      assert.equal(error.error?.code, 'ERR_EXTENSION_HANDLER_ERROR');
      assert.match(error.error?.message ?? '', /disk is full/);
      const warning = await h.host.apply(h.desired('1.1.0', 2), h.fetch);
      assert.equal(warning.result, 'Succeeded');
      assert.equal(warning.status.level, 'Warning');
      assert.equal(warning.status.message, 'half done');
      const silent = await h.host.apply(h.desired('1.2.0', 3), h.fetch);
      assert.equal(silent.result, 'Succeeded');
      assert.equal(silent.status.message, 'enable exited 0');
    } finally {
      await h.remove();
    }
  });

  void test('a second extension of the same Publisher/Type is refused', async () => {
    const h = harness();
    try {
      await h.publish('1.0.0');
      await h.host.apply(h.desired('1.0.0', 1), h.fetch);
      const twin = await h.host.apply(h.desired('1.0.0', 1, { name: 'twin' }), h.fetch);
      assert.equal(twin.result, 'Failed');
      assert.match(
        twin.error?.message ?? '',
        /already installed on this server as extension "probe"/,
      );
      assert.deepEqual(
        h.host.installed().map((record) => record.name),
        ['probe'],
      );
      // Contoso/Test.Probe would share the folder Contoso.Test.Probe-1.0.0 with Contoso.Test/Probe.
      const [first, ...rest] = PUBLISHER.split('.');
      const lookalike = await h.host.apply(
        h.desired('1.0.0', 1, {
          name: 'lookalike',
          publisher: first ?? '',
          type: [...rest, TYPE].join('.'),
        }),
        h.fetch,
      );
      assert.equal(lookalike.result, 'Failed');
      assert.match(
        lookalike.error?.message ?? '',
        /would share the handler folders of Contoso\.Test\/Probe .*as extension "probe"/,
      );
      assert.deepEqual(h.fetch.calls, [`${PUBLISHER}/${TYPE}/1.0.0`], 'nothing else downloaded');
    } finally {
      await h.remove();
    }
  });

  void test('the local policy is asked again once the package is on disk: a refusal then changes nothing', async () => {
    const h = harness();
    try {
      await h.publish('1.0.0');
      await h.publish('2.0.0');
      // An administrator blocks the extension while its package downloads.
      let blocked = false;
      const permit = (): { code: string; message: string } | undefined =>
        blocked ? { code: 'ERR_EXTENSION_BLOCKED', message: 'blocked meanwhile' } : undefined;
      const fetchThenBlock: typeof h.fetch = Object.assign(
        async (identity: Parameters<typeof h.fetch>[0]) => {
          const fetched = await h.fetch(identity);
          blocked = true;
          return fetched;
        },
        { calls: h.fetch.calls },
      );
      const install = await h.host.apply(h.desired('1.0.0', 1), fetchThenBlock, permit);
      assert.equal(install.result, 'Failed', JSON.stringify(install));
      assert.equal(install.error?.code, 'ERR_EXTENSION_BLOCKED');
      assert.deepEqual(h.calls(), [], 'no handler command ran');
      assert.deepEqual(h.host.installed(), []);
      assert.deepEqual(readdirSync(h.temp.paths.extensionsDir), [], 'nothing left unpacked');

      blocked = false;
      assert.equal(
        (await h.host.apply(h.desired('1.0.0', 1), h.fetch, permit)).result,
        'Succeeded',
      );
      const upgrade = await h.host.apply(h.desired('2.0.0', 2), fetchThenBlock, permit);
      assert.equal(upgrade.error?.code, 'ERR_EXTENSION_BLOCKED');
      assert.deepEqual(h.calls(), ['1.0.0 install seq=1', '1.0.0 enable seq=1']);
      assert.deepEqual(readdirSync(h.temp.paths.extensionsDir), [folder('1.0.0')]);
      assert.equal(h.host.installed()[0]?.state, 'enabled');

      // Already refused when the host gets its turn: not even a download.
      const before = h.fetch.calls.length;
      const update = await h.host.apply(h.desired('1.0.0', 2), h.fetch, permit);
      assert.equal(update.error?.code, 'ERR_EXTENSION_BLOCKED');
      assert.equal(h.fetch.calls.length, before);
      assert.equal(h.host.installed()[0]?.sequence, 1);
    } finally {
      await h.remove();
    }
  });

  void test('a command past its timeout is killed with everything it started', async () => {
    const h = harness({ commandTimeoutMs: 700 });
    try {
      await h.publish('1.0.0', { enable: 'sleep 60 & echo $! > background.pid; sleep 60' });
      const started = Date.now();
      const outcome = await h.host.apply(h.desired('1.0.0', 1), h.fetch);
      assert.ok(Date.now() - started < 10_000);
      assert.equal(outcome.result, 'Failed');
      assert.equal(outcome.error?.code, 'ERR_EXTENSION_TIMEOUT');
      assert.match(outcome.error?.message ?? '', /enable command .*\.\/handler\.sh enable/);
      const dir = h.temp.paths.extensionDir(PUBLISHER, TYPE, '1.0.0');
      const background = Number(readFileSync(join(dir, 'background.pid'), 'utf8'));
      await waitFor(() => !alive(background));
    } finally {
      await h.remove();
    }
  });
});

function successStatus(): string {
  return statusCommand('success', 'enabled by the handler');
}

function statusCommand(status: string, message: string): string {
  const body = JSON.stringify([
    {
      version: 1.0,
      timestampUTC: '2024-01-01T00:00:00Z',
      status: {
        name: 't',
        operation: 'Enable',
        status,
        code: 0,
        formattedMessage: { lang: 'en-US', message },
      },
    },
  ]);
  return `printf '%s' '${body}' > "status/$ConfigSequenceNumber.status"`;
}

function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...filesContaining(path, needle));
    else if (entry.isFile() && readFileSync(path, 'latin1').includes(needle)) found.push(path);
  }
  return found;
}
