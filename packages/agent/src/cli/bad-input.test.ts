// Bad input through the real CLI: a specific error on stderr, a non-zero exit, and the data
// folder (localconfig.json and its backup) byte-for-byte unchanged.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ROOT_ONLY, runAzcmagent } from '../test-support/azcmagent-process.js';
import { snapshotDataDir } from '../test-support/config-snapshot.js';
import { makeTempRoot, type TempRoot } from '../test-support/temp-root.js';

async function setUp(temp: TempRoot, commands: readonly string[][]): Promise<void> {
  for (const args of commands) {
    const result = await runAzcmagent(temp.root, ['config', 'set', ...args]);
    assert.equal(result.status, 0, result.stderr);
  }
}

const FULL_MODE_CASES: readonly [string, readonly string[], RegExp][] = [
  [
    'unknown property',
    ['config', 'set', 'extensions.allow', 'A/B'],
    /Unknown configuration property "extensions\.allow"/,
  ],
  [
    'unknown property to clear',
    ['config', 'clear', 'proxy'],
    /Unknown configuration property "proxy"/,
  ],
  [
    'bad extension name',
    ['config', 'set', 'extensions.allowlist', 'Microsoft.Azure.Monitor'],
    /Invalid extension name "Microsoft\.Azure\.Monitor": expected Publisher\/Type/,
  ],
  [
    'bad entry among good ones',
    ['config', 'set', 'extensions.allowlist', 'A/B,C D/E', '--add'],
    /Invalid extension name "C D\/E": it contains whitespace/,
  ],
  [
    'wildcard entry',
    ['config', 'set', 'extensions.blocklist', 'Microsoft.Azure.Extensions/*'],
    /wildcards are not supported/,
  ],
  [
    'port 0',
    ['config', 'set', 'incomingconnections.ports', '0'],
    /Invalid value "0" for incomingconnections\.ports/,
  ],
  [
    '--add on a scalar',
    ['config', 'set', 'guestconfiguration.enabled', 'false', '--add'],
    /--add only works with list properties, and guestconfiguration\.enabled holds a single value/,
  ],
  [
    '--remove on a scalar',
    ['config', 'set', 'config.mode', 'full', '-r'],
    /--remove only works with list properties/,
  ],
  [
    '--add with --remove',
    ['config', 'set', 'extensions.allowlist', 'A/B', '-a', '-r'],
    /--add and --remove cannot be used together/,
  ],
  [
    'removing an absent entry',
    ['config', 'set', 'extensions.allowlist', 'X/Y', '--remove'],
    /Cannot remove X\/Y from extensions\.allowlist/,
  ],
  [
    'a boolean that is not true/false',
    ['config', 'set', 'extensions.enabled', 'no'],
    /expected true or false/,
  ],
  ['an unknown mode', ['config', 'set', 'config.mode', 'locked'], /expected one of full, monitor/],
  [
    'a proxy URL with credentials',
    ['config', 'set', 'proxy.url', 'http://u:p@proxy:8080'],
    /credentials in the proxy URL are not supported/,
  ],
  [
    'a missing value',
    ['config', 'set', 'proxy.url'],
    /Missing argument: expected 'config set <property> <value>'/,
  ],
  [
    'an unknown flag',
    ['config', 'set', 'proxy.url', 'http://p:1', '--force'],
    /Unknown option '--force'/,
  ],
];

void describe('bad input changes nothing', { skip: ROOT_ONLY }, () => {
  const full = makeTempRoot();
  const monitor = makeTempRoot();
  before(async () => {
    await setUp(full, [
      ['extensions.allowlist', 'A/B'],
      ['proxy.url', 'http://proxy:3128'],
    ]);
    await setUp(monitor, [
      ['extensions.allowlist', 'A/B'],
      ['extensions.blocklist', 'C/D'],
      ['config.mode', 'monitor'],
    ]);
  });
  after(() => {
    full.remove();
    monitor.remove();
  });

  for (const [label, args, message] of FULL_MODE_CASES) {
    void test(label, async () => {
      const before = snapshotDataDir(full.paths);
      const result = await runAzcmagent(full.root, args);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, /^Error: /);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, '');
      assert.deepEqual(snapshotDataDir(full.paths), before);
    });
  }

  for (const args of [
    ['config', 'set', 'extensions.allowlist', 'E/F'],
    ['config', 'set', 'extensions.blocklist', 'E/F', '--add'],
    ['config', 'set', 'extensions.allowlist', 'A/B', '--remove'],
    ['config', 'clear', 'extensions.blocklist'],
    ['config', 'set', 'guestconfiguration.enabled', 'true'],
    ['config', 'clear'],
  ]) {
    void test(`monitor mode: ${args.join(' ')}`, async () => {
      const before = snapshotDataDir(monitor.paths);
      const result = await runAzcmagent(monitor.root, args);
      assert.equal(result.status, 2, result.stderr);
      assert.match(
        result.stderr,
        /The agent is in monitor mode.*Switch to full mode first with 'azcmagent config set config\.mode full'/,
      );
      assert.deepEqual(snapshotDataDir(monitor.paths), before);
    });
  }

  void test('--json errors are JSON with the stable code', async () => {
    const result = await runAzcmagent(full.root, [
      'config',
      'set',
      'incomingconnections.ports',
      '0',
      '--json',
    ]);
    assert.equal(result.status, 2);
    const body = JSON.parse(result.stderr) as { Error: { Code: string; Message: string } };
    assert.equal(body.Error.Code, 'ERR_INVALID_VALUE');
    assert.match(body.Error.Message, /incomingconnections\.ports/);
  });

  void test('bad input on a fresh install creates nothing at all', async () => {
    const fresh = makeTempRoot();
    try {
      const result = await runAzcmagent(fresh.root, [
        'config',
        'set',
        'extensions.allowlist',
        'nope',
      ]);
      assert.equal(result.status, 2);
      assert.deepEqual(snapshotDataDir(fresh.paths), {});
    } finally {
      fresh.remove();
    }
  });
});

void describe('bad input that needs no privileges', () => {
  const temp = makeTempRoot();
  after(() => temp.remove());
  const cases: [readonly string[], number, RegExp][] = [
    [
      ['frobnicate'],
      2,
      /Unknown command "frobnicate" for azcmagent\. Available: check, connect, config, disconnect, extension, logs, service, show, upgrade, version/,
    ],
    [
      ['config', 'sett'],
      2,
      /Unknown command "sett" for azcmagent config\. Available: clear, get, info, list, set/,
    ],
    [['config', 'get', 'no.such'], 2, /Unknown configuration property "no\.such"/],
    [['config', 'get'], 2, /Missing argument: expected 'config get <property>'/],
    [['config', 'info', 'nope'], 2, /Unknown configuration property "nope"/],
    [['config', 'list', 'extra'], 2, /Unexpected argument "extra"/],
  ];
  for (const [args, status, message] of cases) {
    void test(args.join(' '), async () => {
      const result = await runAzcmagent(temp.root, args);
      assert.equal(result.status, status, result.stderr);
      assert.match(result.stderr, message);
    });
  }

  void test('a relative or missing AZCMAGENT_ROOT is refused', async () => {
    const relative = await runAzcmagent('relative/dir', ['config', 'list']);
    assert.equal(relative.status, 2);
    assert.match(relative.stderr, /AZCMAGENT_ROOT must be an absolute path; got "relative\/dir"/);
    const missing = await runAzcmagent(`${temp.root}/missing`, ['config', 'list']);
    assert.match(missing.stderr, /is not an existing directory/);
  });
});
