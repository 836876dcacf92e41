// `tether group`: the ARM requests behind create/list/show/delete, az's flags, the table, and
// deletion that needs confirmation.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CliTestKit, TEST_SUBSCRIPTION } from '../client/testing/cli-test-kit.js';
import { register } from './group.js';

const GROUPS = `/subscriptions/${TEST_SUBSCRIPTION}/resourcegroups`;
const rg = (name: string, tags: Record<string, string> = {}) => ({
  id: `/subscriptions/${TEST_SUBSCRIPTION}/resourceGroups/${name}`,
  name,
  location: 'westeurope',
  tags,
  properties: { provisioningState: 'Succeeded' },
});

void describe('tether group', () => {
  let kit: CliTestKit;
  beforeEach(async () => {
    kit = await CliTestKit.create(register);
    await kit.signIn();
  });
  afterEach(() => kit.dispose());

  void it('create PUTs the location and az-style tags', async () => {
    kit.transport.on('PUT', `${GROUPS}/prod-rg`, (r) => ({
      status: 201,
      body: { ...rg('prod-rg'), ...(r.body as object) },
    }));
    const run = await kit.run(
      'group',
      'create',
      '-n',
      'prod-rg',
      '-l',
      'westeurope',
      '--tags',
      'env=prod',
      'owner=ops',
      '-o',
      'table',
    );
    assert.equal(run.exitCode, 0, run.stderr);
    const [put] = kit.transport.requests;
    assert.equal(put?.query.get('api-version'), '2021-04-01');
    assert.deepEqual(put?.body, { location: 'westeurope', tags: { env: 'prod', owner: 'ops' } });
    assert.equal(
      run.stdout,
      'Name     Location    Status\n-------  ----------  ---------\nprod-rg  westeurope  Succeeded\n',
    );
  });

  void it('uses --subscription over the profile default', async () => {
    const other = '44444444-4444-4444-8444-444444444444';
    kit.transport.on('GET', `/subscriptions/${other}/resourcegroups`, { body: { value: [] } });
    const run = await kit.run('group', 'list', '--subscription', other);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.stdout, '[]\n');
  });

  void it('list follows pages and filters by --tag', async () => {
    kit.transport.on('GET', GROUPS, (r) =>
      r.query.has('$skiptoken')
        ? { body: { value: [rg('b', { env: 'prod' })] } }
        : {
            body: {
              value: [rg('a', { env: 'dev' })],
              nextLink: `https://tether.test:8443${GROUPS}?api-version=2021-04-01&$skiptoken=x`,
            },
          },
    );
    const all = await kit.run('group', 'list');
    assert.deepEqual(
      (JSON.parse(all.stdout) as { name: string }[]).map((g) => g.name),
      ['a', 'b'],
    );
    const prod = await kit.run('group', 'list', '--tag', 'env=prod');
    assert.deepEqual(
      (JSON.parse(prod.stdout) as { name: string }[]).map((g) => g.name),
      ['b'],
    );
  });

  const refusals: [string, string[], RegExp][] = [
    [
      'a name with a slash',
      ['group', 'create', '-n', 'a/b', '-l', 'westeurope'],
      /option '-n, --name <name>' argument 'a\/b' is invalid\. A resource group name is 1-90/,
    ],
    [
      'a missing location',
      ['group', 'create', '-n', 'rg'],
      /required option '-l, --location <location>' not specified/,
    ],
    [
      'an unknown output format',
      ['group', 'list', '-o', 'yaml'],
      /argument 'yaml' is invalid\. Allowed values: json, table\./,
    ],
    [
      'a tag without a key',
      ['group', 'create', '-n', 'rg', '-l', 'x', '--tags', '=v'],
      /Tags are key=value/,
    ],
    [
      'an unknown flag',
      ['group', 'list', '--resource-grop', 'x'],
      /unknown option '--resource-grop'/,
    ],
  ];
  for (const [name, args, message] of refusals) {
    void it(`refuses ${name} with exit 2, sending nothing`, async () => {
      const run = await kit.run(...args);
      assert.equal(run.exitCode, 2);
      assert.match(run.stderr, message);
      assert.equal(kit.transport.requests.length, 0);
    });
  }

  void it('delete asks for confirmation, or refuses without a terminal', async () => {
    kit.transport.on('DELETE', `${GROUPS}/rg`, { status: 200 });
    const refused = await kit.run('group', 'delete', '-n', 'rg');
    assert.equal(refused.exitCode, 2);
    assert.match(refused.stderr, /Pass --yes to confirm/);
    kit.interactive = true;
    kit.answer = false;
    const declined = await kit.run('group', 'delete', '-n', 'rg');
    assert.equal(declined.exitCode, 1);
    assert.match(declined.stderr, /Not confirmed; nothing was changed/);
    assert.equal(kit.transport.requests.length, 0);
    kit.answer = true;
    assert.equal((await kit.run('group', 'delete', '-n', 'rg')).exitCode, 0);
    assert.deepEqual(kit.questions.at(-1), "Delete resource group 'rg' and every machine in it?");
    assert.deepEqual(kit.transport.calls(), [`DELETE ${GROUPS}/rg`]);
  });

  void it('exists prints true or false', async () => {
    kit.transport.on('GET', `${GROUPS}/there`, { body: rg('there') });
    assert.equal((await kit.run('group', 'exists', '-n', 'there')).stdout, 'true\n');
    assert.equal((await kit.run('group', 'exists', '-n', 'gone')).stdout, 'false\n');
  });

  void it('shows a missing group with the ARM code and exit 3', async () => {
    kit.transport.on('GET', `${GROUPS}/gone`, {
      status: 404,
      body: {
        error: {
          code: 'ResourceGroupNotFound',
          message: "Resource group 'gone' could not be found.",
        },
      },
    });
    const run = await kit.run('group', 'show', '-n', 'gone');
    assert.equal(run.exitCode, 3);
    assert.equal(
      run.stderr,
      "ERROR: (ResourceGroupNotFound) Resource group 'gone' could not be found.\n",
    );
  });

  void it('explains how to log in when there is no profile', async () => {
    await kit.store.remove();
    const run = await kit.run('group', 'list');
    assert.equal(run.exitCode, 1);
    assert.match(run.stderr, /not logged in .*tether login --service-principal/);
  });
});
