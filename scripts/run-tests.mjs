// Runs every compiled test file with node's test runner. Files named *.system.test.js
// touch real system paths or OS users: they run one at a time after the rest, which
// run in parallel under temporary AZCMAGENT_ROOTs; without root they are skipped, and said so.
// The run ends with a short summary of what failed, so nobody hunts through the full report.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const failureReporter = fileURLToPath(new URL('./failure-reporter.mjs', import.meta.url));
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
const isRoot = process.getuid?.() === 0;
const system = chosen.filter((f) => f.endsWith('.system.test.js'));
const parallel = chosen.filter((f) => !f.endsWith('.system.test.js'));

const scratch = mkdtempSync(join(tmpdir(), 'tether-test-run-'));
let failed = false;
for (const [group, concurrency] of [
  [parallel, 4],
  [isRoot ? system : [], 1],
]) {
  if (group.length === 0) continue;
  const run = spawnSync(
    process.execPath,
    [
      '--test',
      `--test-concurrency=${concurrency}`,
      `--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`,
      '--test-reporter-destination=stdout',
      `--test-reporter=${failureReporter}`,
      `--test-reporter-destination=${join(scratch, `failures-${concurrency}.jsonl`)}`,
      ...group,
    ],
    { stdio: 'inherit' },
  );
  if (run.status !== 0) failed = true;
}

const failures = readdirSync(scratch).flatMap((name) =>
  readFileSync(join(scratch, name), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line)),
);
rmSync(scratch, { recursive: true, force: true });

const lines = ['', '# Summary'];
if (failures.length === 0) {
  lines.push(failed ? 'a test run failed without naming a test; see above.' : 'all tests passed.');
} else {
  lines.push(`${failures.length} failed:`);
  for (const failure of failures) {
    const where = failure.file ? relative(process.cwd(), failure.file) : 'unknown file';
    lines.push(`- ${where}${failure.line ? `:${failure.line}` : ''}  ${failure.name}`);
    for (const text of failure.message) lines.push(`    ${text}`);
  }
}
if (system.length > 0 && !isRoot) {
  lines.push(
    `skipped ${system.length} system test file(s) (*.system.test.js): they create OS users and write under /var/opt/azcmagent, so they need root; run 'sudo npm run test:only system' to include them.`,
  );
}
console.log(lines.join('\n'));
process.exit(failed ? 1 : 0);
