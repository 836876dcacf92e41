// Runs every compiled test file with node's test runner. Files named *.system.test.js
// touch real system paths or OS users: they run one at a time after the rest, which
// run in parallel under temporary AZCMAGENT_ROOTs.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const packages = readdirSync('packages');
const files = packages.flatMap((pkg) => {
  const dist = join('packages', pkg, 'dist');
  try {
    return readdirSync(dist, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.test.js'))
      .map((f) => join(dist, f));
  } catch {
    return [];
  }
});
const filter = process.argv[2];
const chosen = filter ? files.filter((f) => f.includes(filter)) : files;
const system = chosen.filter((f) => f.endsWith('.system.test.js'));
const parallel = chosen.filter((f) => !f.endsWith('.system.test.js'));

if (system.length > 0 && process.getuid?.() !== 0) {
  console.error('system tests create OS users and need root; run as root or pass a filter');
  process.exit(1);
}
let failed = false;
for (const [group, concurrency] of [
  [parallel, 4],
  [system, 1],
]) {
  if (group.length === 0) continue;
  const run = spawnSync(
    process.execPath,
    ['--test', `--test-concurrency=${concurrency}`, ...group],
    { stdio: 'inherit' },
  );
  if (run.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
