// The `azcmagent` program (bin/azcmagent.cjs runs the bundle built from this module): finds the command,
// parses its flags, runs it and turns any error into a specific message on stderr and the exit
// status from the error table. Kept in one module with few imports: start-up time matters.
import { existsSync } from 'node:fs';
import { isTetherError } from '@tether/protocol';
import { appendLogLine } from '../agent-log.js';
import { systemClock } from '../clock.js';
import { AgentError, exitCodeFor } from '../errors.js';
import { resolveAgentPaths, type AgentPaths } from '../paths.js';
import type { CommandContext, CommandEntry, CommandModule, Output } from './command-module.js';
import type * as HeavyCommands from './heavy-commands.js';
import { parseInvocation } from './parse-invocation.js';

/** A command of the second bundle (heavy-commands.ts): loaded only when it runs. */
async function heavy(name: keyof typeof HeavyCommands): Promise<CommandModule> {
  const commands = await import('./heavy-commands.js');
  return commands[name];
}

/**
 * Every `azcmagent` command with its one-line summary. Modules are imported only when their
 * command runs, so start-up costs the same however many commands exist.
 */
const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'check',
    summary: 'Check the lock-down best practices of the local security settings',
    load: () => import('./check-command.js'),
  },
  {
    name: 'connect',
    summary: 'Connect this machine to a Tether control plane',
    load: () => heavy('connect'),
  },
  {
    name: 'config',
    summary: 'Get, set, clear, list and describe the local agent settings',
    subcommands: [
      {
        name: 'clear',
        summary: 'Reset a property (or every property) to its default',
        load: () => import('./config-clear-command.js'),
      },
      {
        name: 'get',
        summary: "Print a property's value",
        load: () => import('./config-get-command.js'),
      },
      {
        name: 'info',
        summary: 'Describe the properties and the values they accept',
        load: () => import('./config-info-command.js'),
      },
      {
        name: 'list',
        summary: 'List every property with its value, the mode and the effective allowlist',
        load: () => import('./config-list-command.js'),
      },
      {
        name: 'set',
        summary: 'Set a property; --add/--remove change one entry of a list',
        load: () => import('./config-set-command.js'),
      },
    ],
  },
  {
    name: 'disconnect',
    summary: 'Delete the machine resource and the local state',
    load: () => heavy('disconnect'),
  },
  {
    name: 'extension',
    summary: 'List and remove extensions, trust and untrust their publishers on this server',
    subcommands: [
      {
        name: 'list',
        summary: 'List the installed extensions, their state and last status',
        load: () => heavy('extensionList'),
      },
      {
        name: 'remove',
        summary: 'Remove an extension (or --all) without the control plane',
        load: () => heavy('extensionRemove'),
      },
      {
        name: 'trust',
        summary: "Trust a publisher's public key for its extension packages",
        load: () => heavy('extensionTrust'),
      },
      {
        name: 'untrust',
        summary: "Stop trusting one of a publisher's keys",
        load: () => heavy('extensionUntrust'),
      },
    ],
  },
  {
    name: 'logs',
    summary: 'Collect the agent logs into a zip file',
    load: () => heavy('logs'),
  },
  {
    name: 'service',
    summary: 'Run an agent service in the foreground',
    subcommands: [
      {
        name: 'run',
        summary: 'Run himds, gc or extension in the foreground (what systemd runs)',
        load: () => heavy('serviceRun'),
      },
    ],
  },
  {
    name: 'show',
    summary: 'Show the machine resource, connection status and services',
    load: () => import('./show-command.js'),
  },
  {
    name: 'upgrade',
    summary: 'Keys trusted to sign the agent packages this machine may upgrade to',
    subcommands: [
      {
        name: 'trust',
        summary: "Trust a publisher's public key for agent packages, or --list the trusted keys",
        load: () => heavy('upgradeTrust'),
      },
      {
        name: 'untrust',
        summary: 'Stop trusting a key for agent packages',
        load: () => heavy('upgradeUntrust'),
      },
    ],
  },
  {
    name: 'version',
    summary: 'Print the agent version',
    load: () => import('./version-command.js'),
  },
];

interface CliEnvironment {
  readonly out: Output;
  readonly env: NodeJS.ProcessEnv;
  readonly stdoutIsTty: boolean;
}

async function runCli(argv: readonly string[], environment: CliEnvironment): Promise<number> {
  const { out } = environment;
  const json = argv.some((arg) => arg === '--json' || /^-[a-z]*j[a-z]*$/.test(arg));
  let logged: { words: string; paths: () => AgentPaths } | undefined;
  const finish = (code: number): number => {
    if (logged !== undefined) logCommand(logged.paths, logged.words, code);
    return code;
  };
  try {
    const { path, entry, rest } = findCommand(argv);
    const separator = rest.indexOf('--');
    const flags = separator < 0 ? rest : rest.slice(0, separator);
    if (flags.includes('-h') || flags.includes('--help') || entry.load === undefined) {
      const help = await import('./help.js');
      const command = entry.load === undefined ? undefined : await entry.load();
      out.stdout(help.formatHelp(path, entry, command?.spec));
      return 0;
    }
    const command = await entry.load();
    const parsed = parseInvocation(path, command.spec, rest);
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
      printJson: (value) => out.stdout(`${JSON.stringify(value)}\n`),
    };
    // Flag names only: values can be secrets (--service-principal-secret).
    const flagNames = Object.keys(parsed.flags).filter((name) => parsed.flags[name] !== undefined);
    logged = {
      words: [...path, ...flagNames.map((name) => `--${name}`)].join(' '),
      paths: () => context.paths(),
    };
    return finish(await command.run(context));
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
    return finish(exitCodeFor(error));
  }
}

/**
 * Records what root ran in log/azcmagent.log, once connect has made the log folder: read-only
 * commands by other users, and any command before connect, leave no trace and create nothing.
 */
function logCommand(paths: () => AgentPaths, words: string, code: number): void {
  if (process.geteuid?.() !== 0) return;
  try {
    const resolved = paths();
    if (!existsSync(resolved.logDir)) return;
    appendLogLine(resolved.agentLog, systemClock.now(), `azcmagent ${words} exit ${code}`);
  } catch {
    // A bad AZCMAGENT_ROOT was already reported by the command itself.
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

// No top-level await: the bundle is CommonJS, which Node starts faster than ES modules.
void runCli(process.argv.slice(2), {
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
}).then((code) => {
  process.exitCode = code;
});
