// The contract every `azcmagent` subcommand module fulfils (types only: nothing to load at run time).
import type { AgentPaths } from '../paths.js';

export interface FlagSpec {
  readonly long: string;
  readonly short?: string;
  readonly type: 'boolean' | 'string';
  readonly valueName?: string;
  readonly description: string;
}

export interface CommandSpec {
  /** e.g. `config set <property> <value>` */
  readonly usage: string;
  readonly summary: string;
  readonly details?: string;
  readonly flags: readonly FlagSpec[];
  readonly positionals: { readonly min: number; readonly max: number };
  readonly examples?: readonly string[];
}

export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface CommandContext {
  readonly positionals: readonly string[];
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  readonly json: boolean;
  readonly color: boolean;
  readonly out: Output;
  readonly env: NodeJS.ProcessEnv;
  /** Resolved lazily: `version` and `config info` never need the file system layout. */
  paths(): AgentPaths;
  verbose(message: string): void;
  /** `--json` output: one compact document on stdout. */
  printJson(value: unknown): void;
}

export interface CommandModule {
  readonly spec: CommandSpec;
  /** Returns the exit status; errors are thrown and mapped by the error table. */
  run(context: CommandContext): Promise<number> | number;
}

/** A command or command group; modules are imported only when their command runs. */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load?: () => Promise<CommandModule>;
  readonly subcommands?: readonly CommandEntry[];
}
