// The privileged write path of localconfig.json: read-modify-write under an exclusive lock,
// atomic replacement, the previous version kept as .bak, root-owned and not writable by others.
import { linkSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import type { Clock } from '../clock.js';
import { AgentError } from '../errors.js';
import type { AgentPaths } from '../paths.js';
import { replaceFileAtomically } from './atomic-file.js';
import { withFileLock } from './file-lock.js';
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
