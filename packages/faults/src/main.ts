// `npm run faults [-- --short] [name…]`: the fault suite. Each fault starts real `tether server`
// nodes (and PostgreSQL), drives a simulated fleet and API writes at them, breaks something,
// and checks that everything answered 2xx is found afterwards; it prints what it measured.
import { parseArgs } from 'node:util';
import { FAULTS } from './faults/index.js';

const { values, positionals } = parseArgs({
  options: { short: { type: 'boolean', default: false } },
  allowPositionals: true,
});
const unknown = positionals.filter((name) => !(name in FAULTS));
if (unknown.length > 0) {
  console.error(
    `unknown fault ${unknown.join(', ')}; available: ${Object.keys(FAULTS).join(', ')}`,
  );
  process.exit(2);
}
let broken = 0;
for (const name of positionals.length > 0 ? positionals : Object.keys(FAULTS)) {
  const fault = FAULTS[name];
  if (fault === undefined) continue;
  const verdict = await fault({ short: values.short });
  verdict.print();
  broken += verdict.broken.length;
}
if (broken > 0) {
  console.error(`\n${broken} promise(s) broken`);
  process.exitCode = 1;
}
