// Reads the HandlerEnvironment.json the agent writes beside a handler: where its config,
// status and log folders are. Relative paths are taken from the handler folder.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { HandlerError } from './handler-error.js';

export interface HandlerEnvironment {
  /** The folder holding HandlerManifest.json and the handler's program. */
  readonly handlerDir: string;
  readonly logFolder: string;
  readonly configFolder: string;
  readonly statusFolder: string;
  readonly heartbeatFile: string | undefined;
}

export const HANDLER_ENVIRONMENT_FILE = 'HandlerEnvironment.json';

export function readHandlerEnvironment(handlerDir: string): HandlerEnvironment {
  const file = join(handlerDir, HANDLER_ENVIRONMENT_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new HandlerError(
      'ERR_HANDLER_ENVIRONMENT',
      `Cannot read ${file}: the extension service writes it before running a handler command.`,
      { cause: error },
    );
  }
  // Azure writes `[{version, handlerEnvironment:{…}}]`; a bare object is taken too.
  const entry: unknown = Array.isArray(parsed) ? parsed[0] : parsed;
  const body =
    isObject(entry) && isObject(entry.handlerEnvironment) ? entry.handlerEnvironment : entry;
  if (!isObject(body)) {
    throw new HandlerError(
      'ERR_HANDLER_ENVIRONMENT',
      `${file} must hold [{"version": 1.0, "handlerEnvironment": {…}}].`,
    );
  }
  const folder = (name: string): string => {
    const value = body[name];
    if (typeof value !== 'string' || value === '') {
      throw new HandlerError(
        'ERR_HANDLER_ENVIRONMENT',
        `${file} has no "${name}"; it must name the handler's ${name}.`,
      );
    }
    return isAbsolute(value) ? value : resolve(handlerDir, value);
  };
  const heartbeat = body.heartbeatFile;
  return {
    handlerDir,
    logFolder: folder('logFolder'),
    configFolder: folder('configFolder'),
    statusFolder: folder('statusFolder'),
    heartbeatFile:
      typeof heartbeat === 'string' && heartbeat !== ''
        ? resolve(handlerDir, heartbeat)
        : undefined,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
