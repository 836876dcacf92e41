// The current `config/<seq>.settings`: which sequence (ConfigSequenceNumber, else the highest
// file), and its public and protected settings. Tether's agent opens protected settings
// before writing them here (mode 0600), so they arrive as a JSON object.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HandlerError } from './handler-error.js';

export type JsonObject = Record<string, unknown>;

export interface HandlerSettings {
  readonly sequence: number;
  readonly publicSettings: JsonObject;
  /** Null when the extension has none. Never log or report these. */
  readonly protectedSettings: JsonObject | null;
}

const SETTINGS_FILE = /^(\d+)\.settings$/;

/** The sequence to act on; undefined when there is no settings file yet. */
export function currentSequence(env: NodeJS.ProcessEnv, configFolder: string): number | undefined {
  const given = env.ConfigSequenceNumber;
  if (given !== undefined && given !== '') {
    if (!/^\d{1,9}$/.test(given)) {
      throw new HandlerError(
        'ERR_HANDLER_SETTINGS',
        `ConfigSequenceNumber '${given.slice(0, 32)}' is not a non-negative integer.`,
      );
    }
    return Number(given);
  }
  let names: string[];
  try {
    names = readdirSync(configFolder);
  } catch {
    return undefined;
  }
  let highest: number | undefined;
  for (const name of names) {
    const match = SETTINGS_FILE.exec(name);
    if (match?.[1] === undefined) continue;
    const sequence = Number(match[1]);
    if (highest === undefined || sequence > highest) highest = sequence;
  }
  return highest;
}

export function readSettings(configFolder: string, sequence: number): HandlerSettings {
  const file = join(configFolder, `${sequence}.settings`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new HandlerError(
      'ERR_HANDLER_SETTINGS',
      `Cannot read the settings of sequence ${sequence} (${file}).`,
      { cause: error },
    );
  }
  const runtime = isObject(parsed) ? parsed.runtimeSettings : undefined;
  const first: unknown = Array.isArray(runtime) ? runtime[0] : undefined;
  const handlerSettings = isObject(first) ? first.handlerSettings : undefined;
  if (!isObject(handlerSettings)) {
    throw new HandlerError(
      'ERR_HANDLER_SETTINGS',
      `${file} must hold {"runtimeSettings":[{"handlerSettings":{…}}]}.`,
    );
  }
  const publicSettings = handlerSettings.publicSettings ?? {};
  if (!isObject(publicSettings)) {
    throw new HandlerError('ERR_HANDLER_SETTINGS', `publicSettings in ${file} must be an object.`);
  }
  return {
    sequence,
    publicSettings,
    protectedSettings: openedProtectedSettings(handlerSettings.protectedSettings, file),
  };
}

function openedProtectedSettings(value: unknown, file: string): JsonObject | null {
  if (value === undefined || value === null || value === '') return null;
  if (isObject(value)) return value;
  if (typeof value === 'string') {
    try {
      const parsed: unknown = JSON.parse(value);
      if (isObject(parsed)) return parsed;
    } catch {
      // Falls through: an encrypted blob this handler cannot open.
    }
  }
  // The value itself is not quoted: it may be a secret.
  throw new HandlerError(
    'ERR_HANDLER_SETTINGS',
    `protectedSettings in ${file} are not a JSON object; the extension service must open them before writing the settings file.`,
  );
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
