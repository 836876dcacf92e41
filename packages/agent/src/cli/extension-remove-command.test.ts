// `azcmagent extension list` and `remove` through the real bundled CLI, with extensions the
// host installed from signed packages: removal runs disable → uninstall with no control plane,
// --all removes everything, and bad input changes nothing.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  harness,
  PUBLISHER,
  TYPE,
  type Harness,
} from '../extensions/host/testing/host-test-harness.js';
import { ROOT_ONLY, runAzcmagent } from '../test-support/azcmagent-process.js';

async function installTwo(h: Harness): Promise<void> {
  await h.publish('1.0.0');
  await h.publish('2.0.0', { type: 'Other' });
  assert.equal((await h.host.apply(h.desired('1.0.0', 1), h.fetch)).result, 'Succeeded');
  const other = h.desired('2.0.0', 1, { name: 'other', type: 'Other' });
  assert.equal((await h.host.apply(other, h.fetch)).result, 'Succeeded');
}

void describe('azcmagent extension list', () => {
  void test('shows name, publisher/type, version, state and status; --json the records', async () => {
    const h = harness();
    try {
      const empty = await runAzcmagent(h.temp.root, ['extension', 'list']);
      assert.equal(empty.status, 0, empty.stderr);
      assert.equal(empty.stdout, 'No extensions are installed.\n');
      await h.publish('1.0.0');
      await h.host.apply(h.desired('1.0.0', 2), h.fetch);
      const list = await runAzcmagent(h.temp.root, ['extension', 'list']);
      assert.equal(list.status, 0, list.stderr);
      const lines = list.stdout.trim().split('\n');
      assert.match(lines[0] ?? '', /^NAME\s+PUBLISHER\/TYPE\s+VERSION\s+STATE\s+STATUS$/);
      assert.match(
        lines[1] ?? '',
        /^probe\s+Contoso\.Test\/Probe\s+1\.0\.0\s+enabled\s+enabled by the handler$/,
      );
      const json = await runAzcmagent(h.temp.root, ['extension', 'list', '--json']);
      const records = JSON.parse(json.stdout) as {
        name: string;
        sequence: number;
        state: string;
      }[];
      assert.deepEqual(
        records.map(({ name, sequence, state }) => ({ name, sequence, state })),
        [{ name: 'probe', sequence: 2, state: 'enabled' }],
      );
    } finally {
      await h.remove();
    }
  });
});

void describe('azcmagent extension remove', { skip: ROOT_ONLY }, () => {
  void test('--name runs disable → uninstall, deletes the folder, lists it as removed locally', async () => {
    const h = harness();
    try {
      await installTwo(h);
      const result = await runAzcmagent(h.temp.root, ['extension', 'remove', '--name', 'probe']);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout, `Extension probe (${PUBLISHER}/${TYPE} 1.0.0) removed.\n`);
      assert.deepEqual(h.calls().slice(-2), ['1.0.0 disable seq=1', '1.0.0 uninstall seq=1']);
      const list = await runAzcmagent(h.temp.root, ['extension', 'list']);
      assert.match(list.stdout, /^probe\s+.*removed locally/m);
      assert.match(list.stdout, /^other\s+Contoso\.Test\/Other\s+2\.0\.0\s+enabled/m);
    } finally {
      await h.remove();
    }
  });

  void test('--all removes every extension; again, there is nothing to remove', async () => {
    const h = harness();
    try {
      await installTwo(h);
      assert.equal(readdirSync(h.temp.paths.extensionsDir).length, 2);
      const result = await runAzcmagent(h.temp.root, ['extension', 'remove', '--all', '--json']);
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), { Removed: ['other', 'probe'] });
      assert.deepEqual(readdirSync(h.temp.paths.extensionsDir), []);
      const again = await runAzcmagent(h.temp.root, ['extension', 'remove', '--all']);
      assert.equal(again.status, 0, again.stderr);
      assert.equal(again.stdout, 'No extensions are installed; nothing to remove.\n');
    } finally {
      await h.remove();
    }
  });

  void test('bad input: unknown name, no --name, both flags, extensions disabled — nothing changes', async () => {
    const h = harness();
    try {
      await h.publish('1.0.0');
      await h.host.apply(h.desired('1.0.0', 1), h.fetch);
      const before = readFileSync(h.temp.paths.extensionStateFile, 'utf8');
      const unknown = await runAzcmagent(h.temp.root, ['extension', 'remove', '--name', 'nope']);
      assert.equal(unknown.status, 2);
      assert.match(
        unknown.stderr,
        /No extension named "nope" is installed on this server \(installed: probe\)/,
      );
      const missing = await runAzcmagent(h.temp.root, ['extension', 'remove']);
      assert.equal(missing.status, 2);
      assert.match(missing.stderr, /Give either --name <extension> or --all/);
      const both = await runAzcmagent(h.temp.root, [
        'extension',
        'remove',
        '--all',
        '--name',
        'probe',
        '--json',
      ]);
      assert.equal(both.status, 2);
      assert.equal(
        (JSON.parse(both.stderr) as { Error: { Code: string } }).Error.Code,
        'ERR_USAGE',
      );
      h.temp.writeConfig('{"extensions.enabled": false}\n');
      const disabled = await runAzcmagent(h.temp.root, ['extension', 'remove', '--name', 'probe']);
      assert.equal(disabled.status, 6);
      assert.match(disabled.stderr, /extensions\.enabled is false/);
      assert.equal(readFileSync(h.temp.paths.extensionStateFile, 'utf8'), before);
      assert.ok(existsSync(h.temp.paths.extensionDir(PUBLISHER, TYPE, '1.0.0')));
      assert.deepEqual(h.calls(), ['1.0.0 install seq=1', '1.0.0 enable seq=1']);
    } finally {
      await h.remove();
    }
  });
});
