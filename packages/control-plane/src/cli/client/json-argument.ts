// Reads a JSON option as `az` does: the JSON itself, or @file naming a file that holds it.
import { readFile } from 'node:fs/promises';
import { isRecord } from './api-error.js';
import { usageError } from './cli-error.js';

export async function readJsonArgument(argument: string, flag: string): Promise<unknown> {
  let text = argument;
  if (argument.startsWith('@')) {
    try {
      text = await readFile(argument.slice(1), 'utf8');
    } catch (error) {
      throw usageError(
        `${flag}: cannot read ${argument.slice(1)}: ${(error as Error).message}.`,
        flag,
      );
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw usageError(
      `${flag} is not valid JSON (${(error as Error).message}); pass the JSON itself or @file.`,
      flag,
    );
  }
}

/** A JSON object, as parameters and rules are. */
export async function readJsonObject(
  argument: string,
  flag: string,
): Promise<Record<string, unknown>> {
  const value = await readJsonArgument(argument, flag);
  if (!isRecord(value) || Array.isArray(value)) {
    throw usageError(`${flag} must be a JSON object, such as {"name": ...}.`, flag);
  }
  return value;
}
