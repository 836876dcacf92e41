// The handler lifecycle of SPEC §4 and docs/extensions.md, run with the state lock held:
// install → enable; same version, new sequence → enable; new version → disable old → update
// new → uninstall old → enable new; remove → disable → uninstall → delete the folder.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type {
  DesiredExtension,
  InstalledExtension,
  OperationOutcome,
  OperationPermit,
  PackageFetcher,
} from '../extension-host.js';
import { readExtensionState, updateExtensionRecord } from './extension-state.js';
import { InstalledHandler } from './handler-commands.js';
import type { HandlerContext } from './handler-context.js';
import { writeHandlerEnvironment, writeSettings, type HandlerIdentity } from './handler-files.js';
import { failed, failedFromError, succeeded } from './outcomes.js';
import { installPackage } from './package-installer.js';
import { passPolicyGate } from './policy-gate.js';

export async function applyExtension(
  context: HandlerContext,
  desired: DesiredExtension,
  fetch: PackageFetcher,
  permit: OperationPermit,
): Promise<OperationOutcome> {
  const refused = refusal(context, permit);
  if (refused !== undefined) return refused;
  const state = readExtensionState(context.paths);
  const previous = state[desired.name];
  // One extension per Publisher.Type on a machine: they would share a handler folder, log folder
  // and cgroup — named by the joined `Publisher.Type`, so A.B/C and A/B.C are the same one.
  const group = (record: HandlerIdentity): string =>
    `${record.publisher}.${record.type}`.toLowerCase();
  const twin = Object.values(state).find(
    (record) =>
      record.name !== desired.name &&
      record.removedLocallyAt === undefined &&
      group(record) === group(desired),
  );
  if (twin !== undefined) {
    const same =
      twin.publisher.toLowerCase() === desired.publisher.toLowerCase() &&
      twin.type.toLowerCase() === desired.type.toLowerCase();
    return failed(
      'ERR_INVALID_VALUE',
      same
        ? `${desired.publisher}/${desired.type} is already installed on this server as extension "${twin.name}"; remove that one first.`
        : `${desired.publisher}/${desired.type} would share the handler folders of ${twin.publisher}/${twin.type} (${twin.publisher}.${twin.type}), already installed on this server as extension "${twin.name}"; remove that one first.`,
      context.clock.now(),
    );
  }
  const current =
    previous !== undefined &&
    previous.removedLocallyAt === undefined &&
    InstalledHandler.exists(context, previous)
      ? previous
      : undefined;
  if (
    current !== undefined &&
    (current.publisher !== desired.publisher || current.type !== desired.type)
  ) {
    const removed = await removeExtension(context, desired.name, false);
    if (removed.result === 'Failed') return removed;
    return install(context, desired, fetch, permit, undefined);
  }
  if (current === undefined) return install(context, desired, fetch, permit, previous);
  if (current.version === desired.version) return enableAgain(context, desired, current, permit);
  return updateVersion(context, desired, fetch, permit, current);
}

async function install(
  context: HandlerContext,
  desired: DesiredExtension,
  fetch: PackageFetcher,
  permit: OperationPermit,
  previous: InstalledExtension | undefined,
): Promise<OperationOutcome> {
  let handler: InstalledHandler;
  try {
    const installed = await installPackage(desired, fetch, {
      paths: context.paths,
      ownerUid: context.ownerUid,
      log: context.log,
      ...(context.extractLimits === undefined ? {} : { limits: context.extractLimits }),
    });
    handler = new InstalledHandler(context, desired, installed.manifest);
  } catch (error) {
    return record(context, desired, failedFromError(error, context.clock.now()), previous);
  }
  // The download may have taken minutes: the policy as it is now decides, and no config change
  // can come between this check and the install command's start.
  const gate = await passPolicyGate(context, permit, `installing ${desired.name}`);
  if (gate.refused !== undefined) {
    rmSync(handler.folders.handlerDir, { recursive: true, force: true });
    return gate.refused;
  }
  try {
    try {
      prepareFolders(handler, desired, desired);
    } catch (error) {
      return record(context, desired, failedFromError(error, context.clock.now()), previous);
    }
    const installFailed = await handler.run('install', desired.sequence, gate.release);
    if (installFailed !== undefined) {
      // Not installed: the next attempt starts from a fresh package.
      rmSync(handler.folders.handlerDir, { recursive: true, force: true });
      return record(context, desired, installFailed, previous);
    }
  } finally {
    gate.release();
  }
  return enableAndRecord(context, handler, desired, previous);
}

async function enableAgain(
  context: HandlerContext,
  desired: DesiredExtension,
  current: InstalledExtension,
  permit: OperationPermit,
): Promise<OperationOutcome> {
  const handler = new InstalledHandler(context, current);
  if (current.sequence === desired.sequence && current.state === 'enabled') {
    handler.startHosted(desired.name, desired.sequence);
    return { result: 'Succeeded', status: current.status };
  }
  const gate = await passPolicyGate(context, permit, `enabling ${desired.name}`);
  if (gate.refused !== undefined) return gate.refused;
  try {
    await context.hosted.stop(desired.name);
    try {
      prepareFolders(handler, current, desired);
    } catch (error) {
      return record(context, desired, failedFromError(error, context.clock.now()), current);
    }
    return await enableAndRecord(context, handler, desired, current, gate.release);
  } finally {
    gate.release();
  }
}

async function updateVersion(
  context: HandlerContext,
  desired: DesiredExtension,
  fetch: PackageFetcher,
  permit: OperationPermit,
  current: InstalledExtension,
): Promise<OperationOutcome> {
  const old = new InstalledHandler(context, current);
  let next: InstalledHandler;
  try {
    // The new package is verified and unpacked before the running version is touched.
    const installed = await installPackage(desired, fetch, {
      paths: context.paths,
      ownerUid: context.ownerUid,
      log: context.log,
      ...(context.extractLimits === undefined ? {} : { limits: context.extractLimits }),
    });
    next = new InstalledHandler(context, desired, installed.manifest);
  } catch (error) {
    return failedFromError(error, context.clock.now());
  }
  const gate = await passPolicyGate(context, permit, `updating ${desired.name}`);
  if (gate.refused !== undefined) {
    rmSync(next.folders.handlerDir, { recursive: true, force: true });
    return gate.refused;
  }
  try {
    return await replaceVersion(context, desired, current, old, next, gate.release);
  } finally {
    gate.release();
  }
}

/** disable old → update new → uninstall old → enable new; `started` once update has started. */
async function replaceVersion(
  context: HandlerContext,
  desired: DesiredExtension,
  current: InstalledExtension,
  old: InstalledHandler,
  next: InstalledHandler,
  started: () => void,
): Promise<OperationOutcome> {
  try {
    prepareFolders(next, desired, desired);
  } catch (error) {
    return failedFromError(error, context.clock.now());
  }
  const keepOld = (outcome: OperationOutcome): OperationOutcome => {
    rmSync(next.folders.handlerDir, { recursive: true, force: true });
    return record(
      context,
      { ...desired, version: current.version, sequence: current.sequence },
      outcome,
      current,
    );
  };
  setState(context, current, 'disabled');
  await context.hosted.stop(desired.name);
  const disableFailed = await old.run('disable', current.sequence);
  if (disableFailed !== undefined) return keepOld(disableFailed);
  const updateFailed = await next.run('update', desired.sequence, started);
  if (updateFailed !== undefined) return keepOld(updateFailed);
  const uninstallFailed = await old.run('uninstall', current.sequence);
  if (uninstallFailed !== undefined) {
    context.log(
      `${old.label}: uninstall failed during the update; removing its folder anyway: ${uninstallFailed.error?.message ?? ''}`,
    );
  }
  rmSync(old.folders.handlerDir, { recursive: true, force: true });
  return enableAndRecord(context, next, desired, current);
}

export async function removeExtension(
  context: HandlerContext,
  name: string,
  local: boolean,
): Promise<OperationOutcome> {
  const now = context.clock.now();
  const current = readExtensionState(context.paths)[name];
  if (current === undefined) return succeeded(`${name} is not installed`, now);
  if (current.removedLocallyAt !== undefined) {
    if (!local) updateExtensionRecord(context.paths, name, undefined);
    return succeeded(`${name} was removed locally`, now);
  }
  if (InstalledHandler.exists(context, current)) {
    let handler: InstalledHandler;
    try {
      handler = new InstalledHandler(context, current);
    } catch (error) {
      return record(context, current, failedFromError(error, now), current);
    }
    // Recorded first, so that a supervisor in another process does not restart the hosted process.
    setState(context, current, 'disabled');
    await context.hosted.stop(name);
    const disableFailed = await handler.run('disable', current.sequence);
    if (disableFailed !== undefined) return record(context, current, disableFailed, current);
    const uninstallFailed = await handler.run('uninstall', current.sequence);
    if (uninstallFailed !== undefined) return record(context, current, uninstallFailed, current);
    rmSync(handler.folders.handlerDir, { recursive: true, force: true });
  }
  rmSync(downloadFile(context, current), { force: true });
  const outcome = succeeded(
    local ? `Removed locally by an administrator (azcmagent extension remove)` : 'Removed',
    context.clock.now(),
  );
  if (!local) {
    updateExtensionRecord(context.paths, name, undefined);
    return outcome;
  }
  updateExtensionRecord(context.paths, name, {
    ...current,
    state: 'disabled',
    status: outcome.status,
    updatedAt: outcome.status.time,
    removedLocallyAt: outcome.status.time,
  });
  return outcome;
}

/** The policy's refusal as a Failed outcome (nothing recorded: nothing changed), or undefined. */
function refusal(context: HandlerContext, permit: OperationPermit): OperationOutcome | undefined {
  const refused = permit();
  return refused === undefined
    ? undefined
    : failed(refused.code, refused.message, context.clock.now());
}

/** HandlerEnvironment.json and the settings for `sequence`, in the handler's folder. */
function prepareFolders(
  handler: InstalledHandler,
  identity: HandlerIdentity,
  desired: DesiredExtension,
): void {
  writeHandlerEnvironment(identity, handler.folders);
  writeSettings(handler.folders, desired.sequence, desired.settings, desired.protectedSettings);
}

async function enableAndRecord(
  context: HandlerContext,
  handler: InstalledHandler,
  desired: DesiredExtension,
  previous: InstalledExtension | undefined,
  started?: () => void,
): Promise<OperationOutcome> {
  const outcome = await handler.enable(desired.sequence, started);
  record(context, desired, outcome, previous);
  if (outcome.result === 'Succeeded') handler.startHosted(desired.name, desired.sequence);
  return outcome;
}

/** Records `outcome` for `extension` and returns it. */
function record(
  context: HandlerContext,
  extension: Pick<DesiredExtension, 'name' | 'publisher' | 'type' | 'version' | 'sequence'>,
  outcome: OperationOutcome,
  previous: InstalledExtension | undefined,
): OperationOutcome {
  const time = outcome.status.time;
  const keepsInstall = previous !== undefined && previous.removedLocallyAt === undefined;
  updateExtensionRecord(context.paths, extension.name, {
    name: extension.name,
    publisher: extension.publisher,
    type: extension.type,
    version: extension.version,
    sequence: extension.sequence,
    state: outcome.result === 'Succeeded' ? 'enabled' : 'failed',
    status: outcome.status,
    installedAt:
      keepsInstall && previous.version === extension.version ? previous.installedAt : time,
    updatedAt: time,
  });
  return outcome;
}

function setState(
  context: HandlerContext,
  current: InstalledExtension,
  state: InstalledExtension['state'],
): void {
  updateExtensionRecord(context.paths, current.name, { ...current, state });
}

function downloadFile(context: HandlerContext, extension: HandlerIdentity): string {
  return join(
    context.paths.downloadsDir,
    `${extension.publisher}.${extension.type}-${extension.version}.zip`,
  );
}
