// Runs one `azcmagent` invocation: finds the command, parses its flags, runs it and turns any
// error into a specific message on stderr and the exit status from the error table.
import { isTetherError } from '@tether/protocol';
import { AgentError, exitCodeFor } from '../errors.js';
import { resolveAgentPaths, type AgentPaths } from '../paths.js';
import type { CommandContext, Output } from './command-module.js';
import { COMMANDS, type CommandEntry } from './command-registry.js';
import { parseInvocation } from './parse-invocation.js';

export interface CliEnvironment {
  readonly out: Output;
  readonly env: NodeJS.ProcessEnv;
  readonly stdoutIsTty: boolean;
}

export async function runCli(
  argv: readonly string[],
  environment: CliEnvironment,
): Promise<number> {
  const { out } = environment;
  const json = argv.includes('-j') || argv.includes('--json');
  try {
    const { path, entry, rest } = findCommand(argv);
    if (rest.includes('-h') || rest.includes('--help') || entry.load === undefined) {
      const help = await import('./help.js');
      const module = entry.load === undefined ? undefined : await entry.load();
      out.stdout(help.formatHelp(path, entry, module?.spec));
      return 0;
    }
    const module = await entry.load();
    const parsed = parseInvocation(path, module.spec, rest);
    let paths: AgentPaths | undefined;
    const verbose = parsed.flags.verbose === true;
    const context: CommandContext = {
      positionals: parsed.positionals,
      flags: parsed.flags,
      json: parsed.flags.json === true,
      color:
        parsed.flags['no-color'] !== true && environment.stdoutIsTty && !environment.env.NO_COLOR,
      out,
      env: environment.env,
      paths: () => (paths ??= resolveAgentPaths(environment.env)),
      verbose: (message) => {
        if (verbose) out.stderr(`${message}\n`);
      },
    };
    return await module.run(context);
  } catch (error) {
    const message = isTetherError(error)
      ? error.message
      : `Internal error: ${error instanceof Error ? error.message : String(error)}`;
    const code = isTetherError(error) ? error.code : 'ERR_INTERNAL';
    out.stderr(
      json
        ? `${JSON.stringify({ Error: { Code: code, Message: message } })}\n`
        : `Error: ${message}\n`,
    );
    return exitCodeFor(error);
  }
}

const ROOT: CommandEntry = { name: 'azcmagent', summary: '', subcommands: COMMANDS };

/** Command words may follow global flags; `--config <file>` is the only flag taking a value. */
function findCommand(argv: readonly string[]): {
  path: readonly string[];
  entry: CommandEntry;
  rest: string[];
} {
  const rest = [...argv];
  const path: string[] = [];
  let entry = ROOT;
  let index = 0;
  while (entry.subcommands !== undefined && index < rest.length) {
    const token = rest[index] ?? '';
    if (token === '--') break;
    if (token.startsWith('-')) {
      index += token === '--config' ? 2 : 1;
      continue;
    }
    const next = entry.subcommands.find((candidate) => candidate.name === token);
    if (next === undefined) {
      const scope = path.length === 0 ? 'azcmagent' : `azcmagent ${path.join(' ')}`;
      throw new AgentError(
        'ERR_UNKNOWN_COMMAND',
        `Unknown command "${token}" for ${scope}. Available: ${entry.subcommands.map((c) => c.name).join(', ')}. Run '${scope} --help' for usage.`,
        { target: token },
      );
    }
    path.push(next.name);
    entry = next;
    rest.splice(index, 1);
  }
  return { path, entry, rest };
}
