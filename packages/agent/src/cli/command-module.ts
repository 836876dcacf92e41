// The contract every `azcmagent` subcommand module fulfils, and the flags common to all of them.
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
}

export interface CommandModule {
  readonly spec: CommandSpec;
  /** Returns the exit status; errors are thrown and mapped by the error table. */
  run(context: CommandContext): Promise<number> | number;
}

export const COMMON_FLAGS: readonly FlagSpec[] = [
  { long: 'help', short: 'h', type: 'boolean', description: 'Show help for the command' },
  { long: 'json', short: 'j', type: 'boolean', description: 'Output the result as JSON' },
  {
    long: 'log-stderr',
    type: 'boolean',
    description: 'Send errors and verbose messages to stderr (always the case in Tether)',
  },
  { long: 'no-color', type: 'boolean', description: 'Disable colored output' },
  { long: 'verbose', short: 'v', type: 'boolean', description: 'Show verbose progress messages' },
  {
    long: 'config',
    type: 'string',
    valueName: 'file',
    description: 'Read flags from a JSON file of {"flag-name": value}; the command line wins',
  },
];
