// `azcmagent logs` through the real CLI: the zip holds the logs and configuration, never the key,
// challenge files, other *.key files or symbolic links; it refuses non-root and an existing
// output. Also: root's commands are recorded in log/azcmagent.log, without flag values.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT_ONLY, runAzcmagent } from '../test-support/azcmagent-process.js';
import { makeTempRoot } from '../test-support/temp-root.js';

const temp = makeTempRoot();
const { paths } = temp;
const out = join(temp.root, 'support');

function put(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

before(() => {
  put(paths.agentLog, 'connect exit 0\n');
  put(paths.himdsLog, 'listening\n');
  put(join(paths.logDir, 'archive/himds.log.1'), 'older\n');
  put(join(paths.logDir, 'stray.key'), 'SECRET-STRAY');
  put(paths.machineKey, 'SECRET-MACHINE-KEY');
  put(join(paths.tokensDir, 'abc.key'), 'SECRET-CHALLENGE');
  symlinkSync(paths.machineKey, join(paths.logDir, 'key-link.log'));
  put(join(paths.policyLogsDir, 'gc_agent.log'), 'gc\n');
  put(join(paths.extensionManagerLogsDir, 'ext_mgr.log'), 'em\n');
  put(
    join(paths.extensionLogsDir, 'Microsoft.Azure.Monitor.AzureMonitorLinuxAgent/ext.log'),
    'x\n',
  );
  put(paths.agentState, '{}\n');
  temp.writeConfig('{}\n');
  mkdirSync(out);
});
after(() => temp.remove());

void describe('azcmagent logs', { skip: ROOT_ONLY }, () => {
  void test('zips logs and configuration, never secrets', async () => {
    const zip = join(out, 'logs.zip');
    const result = await runAzcmagent(temp.root, ['logs', '--output', zip]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /Logs written to .*logs\.zip \(8 files\)/);
    const names = execFileSync('zipinfo', ['-1', zip], { encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(names.sort(), [
      'var/lib/GuestConfig/arc_policy_logs/gc_agent.log',
      'var/lib/GuestConfig/ext_mgr_logs/ext_mgr.log',
      'var/lib/GuestConfig/extension_logs/Microsoft.Azure.Monitor.AzureMonitorLinuxAgent/ext.log',
      'var/opt/azcmagent/agentconfig.json',
      'var/opt/azcmagent/localconfig.json',
      'var/opt/azcmagent/log/archive/himds.log.1',
      'var/opt/azcmagent/log/azcmagent.log',
      'var/opt/azcmagent/log/himds.log',
    ]);
    const contents = execFileSync('unzip', ['-p', zip], { encoding: 'utf8' });
    assert.ok(!contents.includes('SECRET'), 'no key, challenge or stray .key content');
  });

  void test('refuses an existing output and non-root users, writing nothing', async () => {
    const zip = join(out, 'taken.zip');
    writeFileSync(zip, 'mine');
    const taken = await runAzcmagent(temp.root, ['logs', '-o', zip]);
    assert.equal(taken.status, 2, taken.stderr);
    assert.match(taken.stderr, /already exists/);
    assert.equal(readFileSync(zip, 'utf8'), 'mine');
    const other = join(out, 'nobody.zip');
    const nobody = await runAzcmagent(temp.root, ['logs', '-o', other], { uid: 65534, gid: 65534 });
    assert.equal(nobody.status, 3, nobody.stderr);
    assert.match(nobody.stderr, /'azcmagent logs' reads logs only root may read/);
    assert.equal(existsSync(other), false);
  });

  void test("root's commands go to log/azcmagent.log without flag values", async () => {
    const set = await runAzcmagent(temp.root, [
      'config',
      'set',
      'proxy.url',
      'http://proxy.internal:3128',
    ]);
    assert.equal(set.status, 0, set.stderr);
    const log = readFileSync(paths.agentLog, 'utf8');
    assert.match(log, /^\S+Z azcmagent config set exit 0$/m);
    assert.ok(!log.includes('proxy.internal'));
  });
});
