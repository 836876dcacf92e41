// `npm run bench [name…] [-- --flag value…]`: runs the named benchmarks (all when none is
// named); flags after the names go to each benchmark's run().
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('./benches/', import.meta.url));
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.js'))
  .map((f) => f.slice(0, -3))
  .sort();
const args = process.argv.slice(2);
const firstFlag = args.findIndex((a) => a.startsWith('-'));
const wanted = firstFlag < 0 ? args : args.slice(0, firstFlag);
const flags = firstFlag < 0 ? [] : args.slice(firstFlag);
const help = flags.some((f) => f === '--help' || f === '-h');
if (wanted.length === 0 && help) {
  console.log(
    `npm run bench [name…] [-- --flag value…]: runs the named benchmarks, all when none is named.\n` +
      `available: ${available.join(', ')}\n` +
      `npm run bench NAME -- --help describes one benchmark and its flags`,
  );
  process.exit(0);
}
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
if (help) {
  // A benchmark's own description: the comment its source opens with.
  for (const name of wanted) {
    const source = readFileSync(new URL(`./benches/${name}.js`, import.meta.url), 'utf8');
    const opening = /^(?:\/\/.*\n)+/.exec(source)?.[0] ?? '';
    console.log(`${name}:\n${opening.replace(/^\/\/ ?/gm, '  ')}`);
  }
  process.exit(0);
}
const chosen = wanted.length > 0 ? wanted : available;
const benches = new Map<string, { run: (flags: readonly string[]) => Promise<void> }>();
for (const name of chosen) {
  const bench = (await import(`./benches/${name}.js`)) as {
    run: (flags: readonly string[]) => Promise<void>;
  };
  // A benchmark whose run() takes nothing has no flags: one given to it would be ignored.
  if (flags.length > 0 && bench.run.length === 0) {
    console.error(`${name} takes no flags (given: ${flags.join(' ')})`);
    process.exit(2);
  }
  benches.set(name, bench);
}
for (const [name, bench] of benches) {
  try {
    await bench.run(flags);
  } catch (error) {
    // A flag the benchmark does not take, or a value it refuses, is said plainly, with where its
    // flags are described.
    const code = (error as { code?: unknown }).code;
    if (code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && code !== 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
      throw error;
    console.error(`${name}: ${(error as Error).message}; see npm run bench ${name} -- --help`);
    process.exit(2);
  }
}
