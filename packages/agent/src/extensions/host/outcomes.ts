// Turns what a handler command did into the OperationOutcome and ARM instance status the service
// reports: the handler's own status for enable, otherwise the exit code and the tail of its output.
import { AgentError, type AgentErrorCode } from '../../errors.js';
import type { InstanceStatus, OperationOutcome } from '../extension-host.js';
import type { CommandResult } from './handler-runner.js';
import type { HandlerStatus } from './handler-status.js';

export function instanceStatus(
  level: InstanceStatus['level'],
  code: string,
  message: string,
  nowMs: number,
): InstanceStatus {
  return {
    code,
    level,
    displayStatus: level === 'Error' ? 'Provisioning failed' : 'Provisioning succeeded',
    message,
    time: new Date(nowMs).toISOString(),
  };
}

export function succeeded(
  message: string,
  nowMs: number,
  level: 'Info' | 'Warning' = 'Info',
): OperationOutcome {
  return { result: 'Succeeded', status: instanceStatus(level, '0', message, nowMs) };
}

export function failed(code: string, message: string, nowMs: number): OperationOutcome {
  return {
    result: 'Failed',
    error: { code, message },
    status: instanceStatus('Error', code, message, nowMs),
  };
}

/** Any error thrown inside an operation becomes a Failed outcome with its code. */
export function failedFromError(error: unknown, nowMs: number): OperationOutcome {
  if (error instanceof AgentError) return failed(error.code, error.message, nowMs);
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return failed(
    typeof code === 'string' && code.startsWith('ERR_') ? code : 'ERR_INTERNAL',
    message,
    nowMs,
  );
}

export interface CommandContext {
  /** `Publisher.Type version` */
  readonly extension: string;
  readonly name: string;
  readonly command: string;
  readonly logFile: string;
  readonly timeoutMs: number;
}

/** undefined when the command succeeded; otherwise why it did not. */
export function commandFailure(
  result: CommandResult,
  context: CommandContext,
): { code: AgentErrorCode; message: string } | undefined {
  const what = `The ${context.name} command of ${context.extension} (${context.command})`;
  const output = (tail: string): string =>
    tail === ''
      ? ` See ${context.logFile}.`
      : ` Last output: ${tail.slice(-600)} (full log: ${context.logFile}).`;
  switch (result.kind) {
    case 'exited':
      if (result.code === 0) return undefined;
      return {
        code: 'ERR_EXTENSION_COMMAND_FAILED',
        message: `${what} exited with code ${result.code}.${output(result.tail)}`,
      };
    case 'killed':
      return {
        code: 'ERR_EXTENSION_COMMAND_FAILED',
        message: `${what} was killed by ${result.signal}.${output(result.tail)}`,
      };
    case 'timeout':
      return {
        code: 'ERR_EXTENSION_TIMEOUT',
        message: `${what} did not finish within ${Math.round(context.timeoutMs / 1000)} s and was killed with every process it started.${output(result.tail)}`,
      };
    case 'not-started':
      return {
        code: 'ERR_EXTENSION_COMMAND_FAILED',
        message: `${what} could not be started: ${result.message}.`,
      };
  }
}

/** The outcome of enable: the command's exit, then what the handler wrote in status/<seq>.status. */
export function enableOutcome(
  result: CommandResult,
  status: HandlerStatus | undefined,
  context: CommandContext,
  nowMs: number,
): OperationOutcome {
  const failure = commandFailure(result, context);
  if (failure !== undefined) {
    const handlerSaid =
      status?.status === 'error' && status.message !== ''
        ? ` The handler reported: ${status.message}`
        : '';
    return failed(failure.code, `${failure.message}${handlerSaid}`, nowMs);
  }
  if (status === undefined) return succeeded('enable exited 0', nowMs);
  switch (status.status) {
    case 'success':
    case 'transitioning':
      return {
        result: 'Succeeded',
        status: instanceStatus('Info', status.code, status.message || 'enable exited 0', nowMs),
      };
    case 'warning':
      return {
        result: 'Succeeded',
        status: instanceStatus('Warning', status.code, status.message, nowMs),
      };
    case 'error': {
      const message = `${context.extension} reported an error on enable: ${status.message || `code ${status.code}`}`;
      return {
        result: 'Failed',
        error: { code: 'ERR_EXTENSION_HANDLER_ERROR', message },
        status: instanceStatus('Error', status.code, message, nowMs),
      };
    }
  }
}
