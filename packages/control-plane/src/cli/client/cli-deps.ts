// Everything the client commands take from the process — environment, terminal, clock, network —
// gathered in one object so tests can run every command in-process.
import { homedir } from 'node:os';
import { systemClock, type Clock } from '../../clock.js';
import { HttpsTransport } from './https-transport.js';
import { isTerminal, writeStderr, writeStdout } from './standard-output.js';
import type { Transport } from './transport.js';

export interface CliDeps {
  env: Readonly<Record<string, string | undefined>>;
  homeDir: string;
  clock: Clock;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Records a failed action's exit code; the process ends once its work is done. */
  setExitCode: (code: number) => void;
  /** Ends at once: commander's usage errors and help output. */
  exit: (code: number) => never;
  isInteractive: () => boolean;
  /** Whether standard output is a terminal: charts and progress are drawn only for a person. */
  stdoutIsTerminal: () => boolean;
  /** Asks a yes/no question on the terminal. */
  confirm: (question: string) => Promise<boolean>;
  createTransport: (options: { ca?: string }) => Transport;
  sleep: (ms: number) => Promise<void>;
}

export function processCliDeps(): CliDeps {
  return {
    env: process.env,
    homeDir: homedir(),
    clock: systemClock,
    stdout: writeStdout,
    stderr: writeStderr,
    setExitCode: (code) => {
      process.exitCode = code;
    },
    exit: (code) => process.exit(code),
    isInteractive: () => process.stdin.isTTY && process.stderr.isTTY,
    stdoutIsTerminal: () => isTerminal(1),
    confirm: async (question) => {
      const { createInterface } = await import('node:readline/promises');
      const terminal = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await terminal.question(`${question} (y/n): `)).trim());
      } finally {
        terminal.close();
      }
    },
    createTransport: (options) => new HttpsTransport(options),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}
