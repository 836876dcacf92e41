// Entry point of the `azcmagent` program (bin/azcmagent.js imports this compiled module).
import { runCli } from './run-cli.js';

process.exitCode = await runCli(process.argv.slice(2), {
  out: {
    stdout: (text) => {
      process.stdout.write(text);
    },
    stderr: (text) => {
      process.stderr.write(text);
    },
  },
  env: process.env,
  stdoutIsTty: process.stdout.isTTY === true,
});
