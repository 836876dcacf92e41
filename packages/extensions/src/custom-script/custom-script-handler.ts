// Microsoft.Azure.Extensions/CustomScript: enable runs `commandToExecute` once per sequence in
// that sequence's download folder and reports its exit code and the tail of its output.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type {
  HandlerCommand,
  HandlerContext,
  HandlerProgram,
} from '../handler-kit/handler-main.js';
import { writeFileAtomic, type OperationResult } from '../handler-kit/handler-status.js';
import { commandToExecute } from './command-to-execute.js';
import { runShellCommand, type ShellCommandResult } from './run-shell-command.js';

export const CUSTOM_SCRIPT_NAME = 'Microsoft.Azure.Extensions.CustomScript';

/** Below the extension service's 5 minutes, so the handler itself reports a slow command. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 270_000;

/** Written when a sequence's command has run; a second enable of that sequence reports it. */
const RESULT_MARKER = 'enable-result.json';

const succeed = (operation: string): HandlerCommand => ({
  kind: 'operation',
  run: () => Promise.resolve({ status: 'success', code: 0, message: `${operation} succeeded` }),
});

export const customScriptProgram: HandlerProgram = {
  name: CUSTOM_SCRIPT_NAME,
  commands: {
    install: succeed('Install'),
    update: succeed('Update'),
    disable: succeed('Disable'),
    uninstall: {
      kind: 'operation',
      run(context) {
        rmSync(downloadRoot(context), { recursive: true, force: true });
        return Promise.resolve({ status: 'success', code: 0, message: 'Uninstall succeeded' });
      },
    },
    enable: { kind: 'operation', run: enable },
  },
};

function downloadRoot(context: HandlerContext): string {
  return join(context.environment.handlerDir, 'download');
}

async function enable(context: HandlerContext): Promise<OperationResult> {
  const settings = context.settings();
  const { command, source } = commandToExecute(settings);
  const dir = join(downloadRoot(context), String(settings.sequence));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const marker = join(dir, RESULT_MARKER);
  if (existsSync(marker)) {
    context.log(`sequence ${settings.sequence} has already run; not running its command again`);
    return JSON.parse(readFileSync(marker, 'utf8')) as OperationResult;
  }
  context.log(
    source === 'protected'
      ? 'running commandToExecute from the protected settings'
      : `running commandToExecute from the public settings: ${command}`,
  );
  context.report({ status: 'transitioning', code: 0, message: 'Enable in progress' });
  const result = resultOf(
    await runShellCommand(command, { cwd: dir, timeoutMs: commandTimeoutMs(context) }),
  );
  writeFileAtomic(marker, JSON.stringify(result));
  return result;
}

function resultOf(run: ShellCommandResult): OperationResult {
  const output = `[stdout]\n${run.stdout}\n[stderr]\n${run.stderr}`;
  if (run.timedOut) {
    return {
      status: 'error',
      code: run.exitCode,
      message: `Enable failed: the command did not finish in time and was stopped\n${output}`,
    };
  }
  const verdict = run.exitCode === 0 ? 'succeeded' : 'failed';
  return {
    status: run.exitCode === 0 ? 'success' : 'error',
    code: run.exitCode,
    message: `Enable ${verdict}: exit code ${run.exitCode}\n${output}`,
  };
}

/** TETHER_CUSTOM_SCRIPT_TIMEOUT_MS shortens the limit in tests. */
function commandTimeoutMs(context: HandlerContext): number {
  const given = process.env.TETHER_CUSTOM_SCRIPT_TIMEOUT_MS;
  if (given === undefined || given === '') return DEFAULT_COMMAND_TIMEOUT_MS;
  const ms = Number(given);
  if (!Number.isInteger(ms) || ms < 1 || ms > DEFAULT_COMMAND_TIMEOUT_MS) {
    context.log(`ignoring TETHER_CUSTOM_SCRIPT_TIMEOUT_MS '${given.slice(0, 20)}'`);
    return DEFAULT_COMMAND_TIMEOUT_MS;
  }
  return ms;
}
