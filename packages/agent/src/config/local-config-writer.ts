// The privileged write path of localconfig.json: read-modify-write under an exclusive lock,
// atomic replacement, the previous version kept as .bak, root-owned and not writable by others.
import { linkSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { systemClock, type Clock } from '../clock.js';
import { isTetherError } from '@tether/protocol';
import { AgentError } from '../errors.js';
import { expectedKeyOwner } from '../identity/himds-account.js';
import type { AgentPaths } from '../paths.js';
import { acknowledgedLocalChanges } from './acknowledged-local-changes.js';
import { replaceFileAtomically } from './atomic-file.js';
import { withFileLock } from './file-lock.js';
import { currentLocalActor, type LocalActor } from './local-actor.js';
import { propertyChanges } from './local-change-diff.js';
import { appendLocalChanges, type JournalOptions } from './local-change-journal.js';
import type { StoredConfig } from './local-config.js';
import {
  loadLocalConfig,
  serializeStoredConfig,
  type LoadedConfig,
  type LoadOptions,
} from './local-config-file.js';

export interface UpdateOptions extends LoadOptions {
  readonly clock?: Clock;
  readonly lockTimeoutMs?: number;
  /** Who makes the change, as the journal records it; this process by default. */
  readonly actor?: LocalActor;
  readonly journal?: Partial<JournalOptions>;
}

const FILE_OPTIONS = { mode: 0o644, ownerUid: 0, ownerGid: 0 } as const;

/**
 * Runs `change` on the configuration read inside the lock, so concurrent writers never lose
 * each other's updates. `change` throws to refuse; then nothing is written.
 */
export async function updateLocalConfig<R extends { readonly stored: StoredConfig }>(
  paths: AgentPaths,
  change: (loaded: LoadedConfig) => R,
  options: UpdateOptions = {},
): Promise<R> {
  try {
    mkdirSync(paths.dataDir, { recursive: true, mode: 0o755 });
  } catch (error) {
    throw new AgentError(
      'ERR_CONFIG_WRITE_FAILED',
      `Cannot create ${paths.dataDir}: ${(error as Error).message}.`,
      {
        cause: error,
        target: paths.dataDir,
      },
    );
  }
  return withFileLock(
    paths.localConfigLock,
    () => {
      const loaded = loadLocalConfig(paths, options);
      const result = change(loaded);
      const next = serializeStoredConfig(result.stored);
      if (loaded.state === 'ok' && loaded.bytes === next) return result;
      // Recorded and durable before the change is made: a crash in between leaves a record of
      // a change that did not happen, never a change without a record.
      recordChanges(paths, loaded, result.stored, options);
      try {
        keepPreviousVersion(loaded);
        replaceFileAtomically(paths.localConfig, next, FILE_OPTIONS);
      } catch (error) {
        if (error instanceof AgentError) throw error;
        throw new AgentError(
          'ERR_CONFIG_WRITE_FAILED',
          `Cannot write ${paths.localConfig}: ${(error as Error).message}.`,
          { cause: error, target: paths.localConfig },
        );
      }
      return result;
    },
    { clock: options.clock, timeoutMs: options.lockTimeoutMs },
  );
}

function recordChanges(
  paths: AgentPaths,
  loaded: LoadedConfig,
  next: StoredConfig,
  options: UpdateOptions,
): void {
  const changes = propertyChanges(loaded, next);
  if (changes.length === 0) return;
  const time = new Date((options.clock ?? systemClock).now()).toISOString();
  const actor = options.actor ?? currentLocalActor();
  try {
    appendLocalChanges(
      paths.localChangeJournal,
      changes.map((change) => ({ time, ...actor, ...change })),
      (journalId) => acknowledgedLocalChanges(paths.serviceStatus('himds'), journalId),
      { groupId: expectedKeyOwner(paths).gid, ...options.journal },
    );
  } catch (error) {
    if (isTetherError(error)) throw error;
    throw new AgentError(
      'ERR_CONFIG_WRITE_FAILED',
      `Nothing was changed: the change cannot be recorded in ${paths.localChangeJournal} (${(error as Error).message}).`,
      { cause: error, target: paths.localChangeJournal },
    );
  }
}

/** A valid previous version becomes .bak; a damaged one is kept aside without touching .bak. */
function keepPreviousVersion(loaded: LoadedConfig): void {
  const { paths } = loaded;
  if (loaded.state === 'ok') {
    if (loaded.bytes !== null) {
      replaceFileAtomically(paths.localConfigBackup, loaded.bytes, FILE_OPTIONS);
    }
    return;
  }
  if (lstatSync(paths.localConfig, { throwIfNoEntry: false }) === undefined) return;
  rmSync(paths.localConfigDamaged, { force: true });
  // A hard link keeps the damaged bytes even if they are unreadable, and the rename that
  // follows replaces the file without a moment where no file (meaning defaults) exists.
  linkSync(paths.localConfig, paths.localConfigDamaged);
}
