// `azcmagent service run gc` whose clock runs ahead of the system's by the milliseconds written in
// a file (read at every look at the clock), so that a test makes weeks without contact pass in
// seconds: `node gc-service-shifted-clock.js OFFSET_FILE`, under AZCMAGENT_ROOT like the service.
// A test program only: it is not in the azcmagent bundle, and the service it runs is the real one.
import { readFileSync } from 'node:fs';
import { runGcService } from '../cli/gc-service-run.js';
import type { CommandContext } from '../cli/command-module.js';
import type { Clock } from '../clock.js';
import { resolveAgentPaths } from '../paths.js';

const offsetFile = process.argv[2];
if (offsetFile === undefined) {
  process.stderr.write('usage: gc-service-shifted-clock.js OFFSET_FILE\n');
  process.exit(2);
}

/** The offset the test wrote last; none yet is no offset, anything else unreadable is fatal. */
function offsetMs(): number {
  let text: string;
  try {
    text = readFileSync(offsetFile as string, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const value = Number(text.trim());
  if (!Number.isSafeInteger(value)) throw new Error(`${offsetFile}: not whole milliseconds`);
  return value;
}

const clock: Clock = { now: () => Date.now() + offsetMs() };
const context: CommandContext = {
  positionals: ['gc'],
  flags: {},
  json: false,
  color: false,
  out: {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  },
  env: process.env,
  paths: () => resolveAgentPaths(process.env),
  verbose: () => undefined,
  printJson: (value) => process.stdout.write(`${JSON.stringify(value)}\n`),
};
process.exitCode = await runGcService(context, context.paths(), clock);
