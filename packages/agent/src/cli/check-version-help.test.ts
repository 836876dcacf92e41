// `check`, `version` and `--help` through the real CLI; these need no privileges.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { rootDiskEncryption } from '../checks/root-disk-encryption.linux.js';
import { ROOT_ONLY, runAzcmagent } from '../test-support/azcmagent-process.js';
import { makeTempRoot } from '../test-support/temp-root.js';

const temp = makeTempRoot();
after(() => temp.remove());

/** The disk check reads this machine's own /proc, whatever AZCMAGENT_ROOT says. */
const DISK = { encrypted: 'pass', 'not-encrypted': 'warn', unknown: 'unknown' }[
  rootDiskEncryption('/').state
];
/** The summary with the disk check's status added to the others'. */
function summary(pass: number, warn: number, unknown: number, skip: number): string {
  const count = (status: string, n: number): number => n + (DISK === status ? 1 : 0);
  return `${count('pass', pass)} passed, ${count('warn', warn)} warnings, 0 failed, ${count('unknown', unknown)} unknown, ${skip} skipped`;
}

void describe('azcmagent check', () => {
  void test('on a fresh install prints pass/warn lines for the lock-down and exits 0', async () => {
    const result = await runAzcmagent(temp.root, ['check']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^Local security controls \(lock-down best practices\)$/m);
    assert.match(result.stdout, /^ {2}PASS {2}Local configuration file: /m);
    assert.match(
      result.stdout,
      /^ {2}WARN {2}Allowlist rather than blocklist: No allowlist is set/m,
    );
    assert.match(result.stdout, /^ {2}WARN {2}No custom script extension allowed: /m);
    assert.match(result.stdout, /^ {2}WARN {2}Guest configuration disabled: /m);
    assert.match(
      result.stdout,
      /^ {2}PASS {2}Guest configuration cannot change the agent: .*commands name azcmagent/m,
    );
    assert.match(result.stdout, new RegExp(`^${summary(2, 3, 0, 3)}$`, 'm'));
    assert.ok(!result.stdout.includes(`${temp.root}/proc`), 'the disk check reads /proc itself');
    assert.ok(!result.stdout.includes('\u001b'), 'no color when stdout is not a terminal');
  });

  void test('--json gives one record per check', async () => {
    const result = await runAzcmagent(temp.root, ['check', '--json']);
    const body = JSON.parse(result.stdout) as {
      Checks: { Id: string; Status: string }[];
      Summary: unknown;
    };
    assert.deepEqual(
      body.Checks.map((c) => [c.Id, c.Status]),
      [
        ['config-file', 'pass'],
        ['allowlist', 'warn'],
        ['custom-script', 'warn'],
        ['guest-configuration', 'warn'],
        ['guest-configuration-agent-guard', 'pass'],
        ['reachability', 'skip'],
        ['clock-skew', 'skip'],
        ['key-file', 'skip'],
        ['disk-encryption', DISK],
      ],
    );
    assert.deepEqual(body.Summary, {
      Pass: 2 + (DISK === 'pass' ? 1 : 0),
      Warn: 3 + (DISK === 'warn' ? 1 : 0),
      Fail: 0,
      Unknown: DISK === 'unknown' ? 1 : 0,
      Skip: 3,
    });
  });

  void test(
    'passes everything once the seed lock-down is applied',
    { skip: ROOT_ONLY },
    async () => {
      const locked = makeTempRoot();
      try {
        await runAzcmagent(locked.root, [
          'config',
          'set',
          'extensions.allowlist',
          'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent',
        ]);
        await runAzcmagent(locked.root, ['config', 'set', 'guestconfiguration.enabled', 'false']);
        const result = await runAzcmagent(locked.root, ['check']);
        assert.equal(result.status, 0);
        assert.match(result.stdout, new RegExp(`^${summary(5, 0, 0, 3)}$`, 'm'));
      } finally {
        locked.remove();
      }
    },
  );
});

void describe('azcmagent version and help', () => {
  void test('version prints the package version', async () => {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    assert.equal(
      (await runAzcmagent(temp.root, ['version'])).stdout,
      `azcmagent version ${pkg.version}\n`,
    );
    assert.deepEqual(JSON.parse((await runAzcmagent(temp.root, ['version', '-j'])).stdout), {
      Version: pkg.version,
    });
  });

  void test('--help lists every command; a group lists its subcommands', async () => {
    const top = await runAzcmagent(temp.root, ['--help']);
    assert.equal(top.status, 0);
    for (const command of ['check', 'config', 'version'])
      assert.match(top.stdout, new RegExp(`^ {2}${command} +\\S`, 'm'));
    assert.match(top.stdout, /-j, --json/);
    const group = await runAzcmagent(temp.root, ['config']);
    assert.equal(group.status, 0);
    for (const command of ['clear', 'get', 'info', 'list', 'set'])
      assert.match(group.stdout, new RegExp(`^ {2}${command} +\\S`, 'm'));
    const set = await runAzcmagent(temp.root, ['config', 'set', '-h']);
    assert.match(set.stdout, /azcmagent config set <property> <value> \[flags\]/);
    assert.match(set.stdout, /-a, --add/);
  });

  void test('config info describes every property with its default', async () => {
    const result = await runAzcmagent(temp.root, ['config', 'info', '--json']);
    const body = JSON.parse(result.stdout) as {
      Properties: { Name: string; Default: unknown; Description: string }[];
    };
    // SPEC §4's twelve and agentupgrade.enabled.
    assert.equal(body.Properties.length, 13);
    for (const property of body.Properties)
      assert.ok(property.Description.length > 20, property.Name);
    assert.deepEqual(
      body.Properties.find((p) => p.Name === 'extensions.agent.cpulimit')?.Default,
      5,
    );
  });

  void test('config list on a fresh install matches SPEC §4 line for line, then agent upgrades', async () => {
    const result = await runAzcmagent(temp.root, ['config', 'list']);
    const block = result.stdout.split('\n\n')[0];
    assert.equal(
      block,
      [
        'Local Configuration Settings',
        '  incomingconnections.enabled                           : true',
        '  incomingconnections.ports                             : []',
        '  connection.type                                       : default',
        '  proxy.url                                             :',
        '  proxy.bypass                                          : []',
        '  extensions.allowlist                                  : []',
        '  extensions.blocklist                                  : []',
        '  guestconfiguration.enabled                            : true',
        '  extensions.enabled                                    : true',
        '  config.mode                                           : full',
        '  guestconfiguration.agent.cpulimit                     : 5',
        '  extensions.agent.cpulimit                             : 5',
        '  agentupgrade.enabled                                  : true',
      ].join('\n'),
    );
  });
});
