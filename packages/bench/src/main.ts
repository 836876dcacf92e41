// `npm run bench [name…] [-- --flag value…]`: runs the named benchmarks (all when none is
// named); flags after the names go to each benchmark's run().
import { readdirSync } from 'node:fs';
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
if (wanted.length === 0 && flags.some((f) => f === '--help' || f === '-h')) {
  console.log(
    `npm run bench [name…] [-- --flag value…]: runs the named benchmarks, all when none is named.\n` +
      `available: ${available.join(', ')}\n` +
      `a benchmark's flags are described at the top of packages/bench/src/benches/NAME.ts`,
  );
  process.exit(0);
}
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : available) {
  const bench = (await import(`./benches/${name}.js`)) as {
    run: (flags: readonly string[]) => Promise<void>;
  };
  await bench.run(flags);
}
