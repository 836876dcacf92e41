// `tether agent-package list`: the published packages as JSON or a table, and a line saying so
// when there are none, as the extension and guest configuration package lists do.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CliTestKit } from '../client/testing/cli-test-kit.js';
import { register } from './agent-package.js';
import { register as registerExtension } from './extension.js';
import { register as registerGuestConfig } from './guest-config.js';

const PACKAGES = '/providers/Tether.Agent/packages';

void describe('tether agent-package list', () => {
  let kit: CliTestKit;
  beforeEach(async () => {
    kit = await CliTestKit.create(register, registerExtension, registerGuestConfig);
    await kit.signIn();
  });
  afterEach(() => kit.dispose());

  void it('lists the packages, newest first as the control plane answers', async () => {
    const row = {
      name: 'azcmagent',
      version: '1.2.0',
      sha256: 'a'.repeat(64),
      size: 4096,
      publishedAt: '2026-06-01T12:00:00.000Z',
      publishedBy: 'release-pipeline',
    };
    kit.transport.on('GET', PACKAGES, { body: { value: [row] } });
    const json = await kit.run('agent-package', 'list');
    assert.equal(json.exitCode, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), [row]);
    const table = await kit.run('agent-package', 'list', '-o', 'table');
    assert.match(table.stdout, /^Name +Version +Size +SHA256 +PublishedAt +PublishedBy\n/);
    assert.match(
      table.stdout,
      /\nazcmagent +1\.2\.0 +4096 +a{64} +2026-06-01T12:00:00\.000Z +release-pipeline\n$/,
    );
  });

  void it('says so when none is published, in a table; JSON stays an empty list', async () => {
    kit.transport.on('GET', PACKAGES, { body: { value: [] } });
    kit.transport.on('GET', '/providers/Tether.Extensions/packages', { body: { value: [] } });
    const table = await kit.run('agent-package', 'list', '-o', 'table');
    assert.equal(table.exitCode, 0, table.stderr);
    assert.equal(
      table.stdout,
      "No agent package is published yet; publish one with 'tether agent-package publish FILE.deb --key publisher.key'.\n",
    );
    const json = await kit.run('agent-package', 'list');
    assert.equal(json.exitCode, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), []);

    const extensions = await kit.run('extension', 'list', '-o', 'table');
    assert.match(extensions.stdout, /^No package is published yet; publish one with/);
    const ofPublisher = await kit.run(
      'extension',
      'list',
      '--publisher',
      'Fabrikam',
      '-o',
      'table',
    );
    assert.equal(ofPublisher.stdout, 'No package of Fabrikam is published yet.\n');
    const configurations = await kit.run('guest-config', 'package', 'list', '-o', 'table');
    assert.match(configurations.stdout, /^No guest configuration package is published yet; /);
  });
});
