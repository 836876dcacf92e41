// Flag and argument parsing for one command with node's own parseArgs (no import cost), plus
// the `--config <file>` JSON file of flags. Mistakes become ERR_USAGE naming the fix.
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AgentError } from '../errors.js';
import type { CommandSpec, FlagSpec } from './command-module.js';

/** Accepted by every command, before or after the command words. */
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

export interface Invocation {
  readonly positionals: readonly string[];
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
}

export function parseInvocation(
  path: readonly string[],
  spec: CommandSpec,
  args: readonly string[],
): Invocation {
  const command = `azcmagent ${path.join(' ')}`;
  const usage = (message: string): AgentError =>
    new AgentError('ERR_USAGE', `${message} Run '${command} --help' for usage.`);
  const flagSpecs = [...COMMON_FLAGS, ...spec.flags];
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const flag of flagSpecs) {
    options[flag.long] =
      flag.short === undefined ? { type: flag.type } : { type: flag.type, short: flag.short };
  }
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...args],
      options,
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (error) {
    throw usage(`${(error as Error).message}.`);
  }
  const { positionals } = parsed;
  const { min, max } = spec.positionals;
  if (positionals.length < min) {
    throw usage(`Missing argument: expected '${spec.usage}'.`);
  }
  if (positionals.length > max) {
    throw usage(
      `Unexpected argument "${positionals[max] ?? ''}": expected '${spec.usage}'. Quote a value that contains spaces.`,
    );
  }
  const flags = { ...parsed.values };
  const configFile = flags.config;
  if (typeof configFile === 'string') {
    for (const [key, value] of Object.entries(readFlagFile(configFile, flagSpecs, usage))) {
      if (flags[key] === undefined) flags[key] = value;
    }
  }
  return { positionals, flags };
}

function readFlagFile(
  file: string,
  flagSpecs: readonly FlagSpec[],
  usage: (message: string) => AgentError,
): Record<string, string | boolean> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw usage(`Cannot read the --config file ${file} as JSON: ${(error as Error).message}.`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw usage(`The --config file ${file} must hold a JSON object of flag names and values.`);
  }
  const result: Record<string, string | boolean> = {};
  for (const [key, value] of Object.entries(json)) {
    const flag = flagSpecs.find((candidate) => candidate.long === key);
    if (flag === undefined || key === 'config') {
      throw usage(`The --config file ${file} names "${key}", which is not a flag of this command.`);
    }
    if (typeof value !== flag.type) {
      throw usage(
        `The --config file ${file} gives "${key}" a ${typeof value}; expected a ${flag.type}.`,
      );
    }
    result[key] = value as string | boolean;
  }
  return result;
}
