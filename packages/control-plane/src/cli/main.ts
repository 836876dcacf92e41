// `tether`: the control plane's server and admin commands. This entry answers --version by
// itself; the program (run-program.ts, with commander) is loaded only for the other commands.
import { TETHER_VERSION } from '../version.js';
import { writeStdout } from './client/standard-output.js';

/** Top-level await is avoided: the program ships as a CommonJS bundle, which starts faster. */
async function main(argv: readonly string[]): Promise<void> {
  // Not commander's .version(): its --version would be taken from every subcommand's arguments,
  // and `tether extension publish` has a --version of its own.
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-v')) {
    writeStdout(`tether version ${TETHER_VERSION}\n`);
    return;
  }
  const { runProgram } = await import('./run-program.js');
  await runProgram(argv);
}

main(process.argv).catch((error: unknown) => {
  // The stream, not writeStderr: the program's own copy of that may have written through it.
  process.stderr.write(
    `tether: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
