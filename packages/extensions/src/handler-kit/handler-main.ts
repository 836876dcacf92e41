// What every handler program does around its own work: find its folders, pick the sequence,
// run the command named on its command line, write the status and set the exit code.
import { dirname, resolve } from 'node:path';
import { HandlerError } from './handler-error.js';
import { readHandlerEnvironment, type HandlerEnvironment } from './handler-environment.js';
import { currentSequence, readSettings, type HandlerSettings } from './handler-settings.js';
import { writeStatus, type OperationResult } from './handler-status.js';

export interface HandlerContext {
  readonly environment: HandlerEnvironment;
  /** Undefined before the extension service has written any settings. */
  readonly sequence: number | undefined;
  /** The settings of `sequence`; throws when there are none. */
  settings(): HandlerSettings;
  /** Writes the status of the running operation now (e.g. `transitioning`). */
  report(result: OperationResult): void;
  log(line: string): void;
}

/**
 * A status-writing command (install, enable, …) returns its result; a hosted process returns
 * its exit code.
 */
export type HandlerCommand =
  | { kind: 'operation'; run(context: HandlerContext): Promise<OperationResult> }
  | { kind: 'hosted'; run(context: HandlerContext): Promise<number> };

export interface HandlerProgram {
  /** `Publisher.Type`, the status' `name`. */
  readonly name: string;
  readonly commands: Readonly<Record<string, HandlerCommand>>;
}

const OPERATION_NAMES: Record<string, string> = {
  install: 'Install',
  uninstall: 'Uninstall',
  update: 'Update',
  enable: 'Enable',
  disable: 'Disable',
};

/** Runs `argv[0]` of `program`; resolves to the process exit code. */
export async function runHandler(
  program: HandlerProgram,
  argv: readonly string[],
  options: { handlerDir?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  const log = (line: string): void => {
    process.stdout.write(`${new Date().toISOString()} ${program.name}: ${line}\n`);
  };
  const name = argv[0] ?? '';
  const command = Object.hasOwn(program.commands, name) ? program.commands[name] : undefined;
  if (command === undefined) {
    process.stderr.write(
      `usage: handler <${Object.keys(program.commands).join('|')}>; '${name.slice(0, 40)}' is not a command\n`,
    );
    return 2;
  }
  const handlerDir = options.handlerDir ?? handlerDirOf();
  const env = options.env ?? process.env;
  let environment: HandlerEnvironment;
  let sequence: number | undefined;
  try {
    environment = readHandlerEnvironment(handlerDir);
    sequence = currentSequence(env, environment.configFolder);
  } catch (error) {
    log(messageOf(error));
    return 1;
  }
  const operation = OPERATION_NAMES[name] ?? name;
  const report = (result: OperationResult): void => {
    if (sequence === undefined) return;
    writeStatus(environment.statusFolder, sequence, {
      name: program.name,
      operation,
      result,
      time: new Date(),
    });
  };
  const context: HandlerContext = {
    environment,
    sequence,
    settings() {
      if (sequence === undefined) {
        throw new HandlerError(
          'ERR_HANDLER_SETTINGS',
          `No settings yet: ${environment.configFolder} holds no <sequence>.settings file.`,
        );
      }
      return readSettings(environment.configFolder, sequence);
    },
    report,
    log,
  };
  if (command.kind === 'hosted') {
    try {
      return await command.run(context);
    } catch (error) {
      log(messageOf(error));
      return 1;
    }
  }
  let result: OperationResult;
  try {
    result = await command.run(context);
  } catch (error) {
    result = { status: 'error', code: 1, message: `${operation} failed: ${messageOf(error)}` };
  }
  report(result);
  log(`${operation}: ${result.status} (code ${result.code})`);
  return result.status === 'error' ? 1 : 0;
}

/** The folder of the running program: handlers live in their handler folder. */
function handlerDirOf(): string {
  const script = process.argv[1];
  return script === undefined ? process.cwd() : dirname(resolve(script));
}

/** HandlerErrors are written for users; anything else is reported by its message only. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
