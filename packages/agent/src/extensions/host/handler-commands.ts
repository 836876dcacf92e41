// Runs the named manifest command of one installed handler version, and starts its hosted
// process: the glue between a handler folder, its manifest and the runner.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OperationOutcome } from '../extension-host.js';
import type { HandlerContext } from './handler-context.js';
import { handlerFolders, type HandlerFolders, type HandlerIdentity } from './handler-files.js';
import {
  MANIFEST_FILE,
  manifestCommand,
  parseHandlerManifest,
  type HandlerCommandName,
  type HandlerManifest,
} from './handler-manifest.js';
import { handlerProcessEnv } from './handler-process-env.js';
import { runHandlerCommand, type CommandResult } from './handler-runner.js';
import { readHandlerStatus } from './handler-status.js';
import { commandFailure, enableOutcome, failed, type CommandContext } from './outcomes.js';
import { settingsFileMask, type SecretMask } from './secret-mask.js';

export class InstalledHandler {
  readonly folders: HandlerFolders;
  readonly manifest: HandlerManifest;
  readonly #context: HandlerContext;
  readonly #identity: HandlerIdentity;

  constructor(context: HandlerContext, identity: HandlerIdentity, manifest?: HandlerManifest) {
    this.#context = context;
    this.#identity = identity;
    this.folders = handlerFolders(context.paths, identity);
    this.manifest =
      manifest ??
      parseHandlerManifest(
        readFileSync(join(this.folders.handlerDir, MANIFEST_FILE), 'utf8'),
        join(this.folders.handlerDir, MANIFEST_FILE),
      );
  }

  static exists(context: HandlerContext, identity: HandlerIdentity): boolean {
    return existsSync(join(handlerFolders(context.paths, identity).handlerDir, MANIFEST_FILE));
  }

  get label(): string {
    return `${this.#identity.publisher}.${this.#identity.type} ${this.#identity.version}`;
  }

  get group(): string {
    return `${this.#identity.publisher}.${this.#identity.type}`;
  }

  /** Runs a command; a failure becomes a Failed outcome, success undefined. */
  async run(
    name: Exclude<HandlerCommandName, 'enable'>,
    sequence: number,
    onStarted?: () => void,
  ): Promise<OperationOutcome | undefined> {
    const { result, context, mask } = await this.#run(name, sequence, onStarted);
    const failure = commandFailure(result, context);
    return failure === undefined
      ? undefined
      : failed(failure.code, mask(failure.message), this.#context.clock.now());
  }

  /** Runs enable and reads status/<seq>.status. */
  async enable(sequence: number, onStarted?: () => void): Promise<OperationOutcome> {
    const { result, context, mask } = await this.#run('enable', sequence, onStarted);
    const status = readHandlerStatus(this.folders.statusFolder, sequence);
    const outcome = enableOutcome(
      result,
      status === undefined ? undefined : { ...status, message: mask(status.message) },
      context,
      this.#context.clock.now(),
    );
    return maskOutcome(outcome, mask);
  }

  /** Starts (or keeps) the hosted process, when the manifest names one. */
  startHosted(name: string, sequence: number): void {
    const command = this.manifest.hostedCommand;
    if (command === undefined) return;
    this.#context.hosted.start({
      name,
      command,
      cwd: this.folders.handlerDir,
      env: handlerProcessEnv(this.#context.env, sequence, this.#context.baseEnv),
      group: this.group,
      logFile: this.folders.hostedLog,
    });
  }

  async #run(
    name: HandlerCommandName,
    sequence: number,
    onStarted: (() => void) | undefined,
  ): Promise<{ result: CommandResult; context: CommandContext; mask: SecretMask }> {
    const command = manifestCommand(this.manifest, name);
    const { clock, commandTimeoutMs, limiter, log } = this.#context;
    log(`${this.label}: ${name} (sequence ${sequence}): ${command}`);
    const result = await runHandlerCommand(
      {
        name,
        command,
        cwd: this.folders.handlerDir,
        env: handlerProcessEnv(this.#context.env, sequence, this.#context.baseEnv),
        group: this.group,
        logFile: this.folders.commandLog,
        timeoutMs: commandTimeoutMs,
      },
      limiter,
      clock,
      onStarted,
    );
    log(
      `${this.label}: ${name} finished: ${result.kind === 'exited' ? `exit code ${result.code}` : result.kind}`,
    );
    // Masked before the tail is cut to size, so that no cut can leave part of a secret showing.
    const mask = settingsFileMask(this.folders.configFolder, sequence);
    return {
      mask,
      result: result.kind === 'not-started' ? result : { ...result, tail: mask(result.tail) },
      context: {
        extension: this.label,
        name,
        command,
        logFile: this.folders.commandLog,
        timeoutMs: commandTimeoutMs,
      },
    };
  }
}

/** The outcome with every message it carries masked. */
function maskOutcome(outcome: OperationOutcome, mask: SecretMask): OperationOutcome {
  return {
    ...outcome,
    status: { ...outcome.status, message: mask(outcome.status.message) },
    ...(outcome.error === undefined
      ? {}
      : { error: { ...outcome.error, message: mask(outcome.error.message) } }),
  };
}
