// Both packages pass lintian, Debian's package checker, with no error and no warning that is not
// overridden, with its reason, in the package's lintian-overrides.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PACKAGES_DIR, packageVersion } from './built-packages.js';

const debs = ['azcmagent', 'tether'].map((name) =>
  join(PACKAGES_DIR, `${name}_${packageVersion()}_amd64.deb`),
);
const SKIP =
  spawnSync('lintian', ['--version']).status !== 0
    ? 'lintian is not installed (apt-get install lintian)'
    : debs.some((deb) => !existsSync(deb))
      ? 'the packages are not built (npm run package)'
      : false;

void describe('lintian', { skip: SKIP, timeout: 1_200_000 }, () => {
  for (const deb of debs) {
    void it(`finds no error or warning in ${deb.replace(/^.*\//, '')}`, async () => {
      const output = await new Promise<string>((resolve) => {
        execFile('lintian', [deb], { maxBuffer: 16 * 1024 * 1024 }, (_error, stdout, stderr) =>
          resolve(`${stdout}${stderr}`),
        );
      });
      const findings = output.split('\n').filter((line) => /^[EW]: /.test(line));
      assert.deepEqual(findings, []);
    });
  }
});
