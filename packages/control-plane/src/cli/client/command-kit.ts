// The shape every client command shares: az-style --output and --subscription options, usage
// errors that exit 2 before anything is sent, and actions whose failures print `ERROR: …`.
import { Option, type Command, type CommanderError } from 'commander';
import type { CliDeps } from './cli-deps.js';
import { CLI_EXIT_CODES, CliError, usageError } from './cli-error.js';
import { printable, renderOutput, type Column } from './output-format.js';
import { parseGuid, parseOutputFormat, type OutputFormat } from './parsers.js';
import { checkProfileName } from './profile-store.js';
import { openSession, type Session } from './session.js';
import { terminalQueries } from './standard-output.js';

export interface OutputOptions {
  output: OutputFormat;
}

export interface SubscriptionOptions {
  subscription?: string;
}

export interface ActionContext {
  deps: CliDeps;
  /** The command's positional arguments. */
  args: readonly string[];
  /** The signed-in session, opened on first use and closed when the action ends. */
  session(subscription?: string): Promise<Session>;
  print<T>(value: T | readonly T[], format: OutputFormat, columns: readonly Column<T>[]): void;
  /** Prints a list; as a table, an empty one is the line `empty` rather than nothing. */
  printList<T>(
    rows: readonly T[],
    format: OutputFormat,
    columns: readonly Column<T>[],
    empty: string,
  ): void;
  warn(message: string): void;
  /** Passes with --yes or a "y" typed at the terminal; otherwise refuses, changing nothing. */
  confirm(yes: boolean | undefined, question: string): Promise<void>;
}

/** Applies to a command group before its subcommands are added; they inherit it. */
export function configureGroup(group: Command, deps: CliDeps): Command {
  return group
    .configureOutput({ ...terminalQueries(), writeOut: deps.stdout, writeErr: deps.stderr })
    .exitOverride((error: CommanderError) =>
      deps.exit(error.exitCode === 0 ? 0 : CLI_EXIT_CODES.ERR_USAGE),
    )
    .showHelpAfterError('(add --help for usage)');
}

export function outputOption(): Option {
  return new Option('-o, --output <format>', 'output format: json or table')
    .default('json')
    .argParser(parseOutputFormat);
}

export function subscriptionOption(): Option {
  return new Option(
    '--subscription <id>',
    "subscription id (GUID); defaults to the profile's default subscription",
  ).argParser(parseGuid);
}

export function defineAction<O>(
  deps: CliDeps,
  run: (options: O, context: ActionContext) => Promise<void>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const { profile } = command.optsWithGlobals<{ profile?: string }>();
    let opened: Session | undefined;
    const context: ActionContext = {
      deps,
      args: command.args,
      session: async (subscription) => {
        opened ??= await openSession(context.deps, subscription);
        return opened;
      },
      print: (value, format, columns) => deps.stdout(renderOutput(value, format, columns)),
      printList: (rows, format, columns, empty) =>
        deps.stdout(
          rows.length === 0 && format === 'table'
            ? `${empty}\n`
            : renderOutput(rows, format, columns),
        ),
      warn: (message) => deps.stderr(`WARNING: ${printable(message)}\n`),
      confirm: async (yes, question) => {
        if (yes === true) return;
        if (!deps.isInteractive()) {
          throw usageError(
            `${question} Pass --yes to confirm; there is no terminal to ask on.`,
            '--yes',
          );
        }
        if (!(await deps.confirm(question))) {
          throw new CliError('ERR_NOT_CONFIRMED', 'Not confirmed; nothing was changed.');
        }
      },
    };
    try {
      if (profile !== undefined) {
        // The flag wins over the environment, for this command only.
        context.deps = {
          ...deps,
          env: { ...deps.env, TETHER_PROFILE: checkProfileName(profile, '--profile') },
        };
      }
      await run(command.opts() as O, context);
    } catch (error) {
      reportFailure(deps, error);
    } finally {
      opened?.close();
    }
  };
}

function reportFailure(deps: CliDeps, error: unknown): void {
  if (error instanceof CliError) {
    deps.stderr(`ERROR: ${printable(error.message)}\n`);
    deps.setExitCode(error.exitCode);
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  deps.stderr(`ERROR: unexpected failure: ${printable(message)}\n`);
  deps.setExitCode(1);
}
