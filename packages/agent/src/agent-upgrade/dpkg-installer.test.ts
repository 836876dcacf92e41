// dpkg refusing a file that is not a package: the installer says so with dpkg's own words and
// reports a failure (installing a real package is packaging/agent-upgrade.system.test.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { installDeb, readDebFields } from './dpkg-installer.js';

void test('a file that is not a package is refused by dpkg-deb and by dpkg', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tether-dpkg-installer-'));
  try {
    const file = join(dir, 'azcmagent_9.0.0_amd64.deb');
    writeFileSync(file, 'not a package\n');
    await assert.rejects(readDebFields(file));
    const result = await installDeb(file, 'azcmagent-upgrade-test');
    assert.equal(result.ok, false);
    assert.ok(
      !result.ok && /^dpkg could not install the package \(exit \d+\): \S/.test(result.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
