// Changing a folder of trusted keys (a publisher's extension keys, the agent package keys) the one
// way root does it: under the configuration's lock, refused when the folder is not safe, and
// written to the local-changes journal first (the key ids before and after), so the change
// reaches the control plane's activity log like `azcmagent config set`.
import { mkdirSync } from 'node:fs';
import { MAX_LOCAL_CHANGE_VALUE_LENGTH } from '@tether/protocol';
import { publisherKeyId } from '@tether/protocol/extension-package';
import type { Clock } from '../../clock.js';
import { acknowledgedLocalChanges } from '../../config/acknowledged-local-changes.js';
import { withFileLock } from '../../config/file-lock.js';
import { currentLocalActor } from '../../config/local-actor.js';
import { appendLocalChanges } from '../../config/local-change-journal.js';
import { AgentError } from '../../errors.js';
import { expectedKeyOwner } from '../../identity/himds-account.js';
import type { AgentPaths } from '../../paths.js';
import { readKeysIn, type TrustStoreOptions } from './trusted-publishers.js';

/** One folder of trusted keys as the journal and the refusals name it. */
export interface TrustedKeySet {
  /** The folders down to the one holding the keys, each checked from the outermost. */
  readonly folders: readonly string[];
  /** The journal's property, e.g. `agentupgrade.trustedkeys`. */
  readonly property: string;
  /** What refusals call the keys, e.g. `The trusted keys for agent packages`. */
  readonly label: string;
  /** A key id as the journal writes it (the id itself unless given). */
  readonly journaled?: (keyId: string) => string;
}

export interface TrustChange {
  /** False when the trust was already so: nothing written, nothing journaled. */
  readonly changed: boolean;
  readonly keyIds: readonly string[];
}

/** The ids of the keys in the set, sorted: what lists and the journal show. */
export function trustedKeyIdsIn(set: TrustedKeySet, options: TrustStoreOptions): string[] {
  return readKeysIn(set.folders, options)
    .map((key) => publisherKeyId(key))
    .sort();
}

/**
 * Changes the set from its ids to `next(ids)` with `apply` (root only: the caller checks). Nothing
 * is journaled or written when the ids stay the same, and nothing when the set cannot be trusted.
 */
export function changeTrustedKeys(
  paths: AgentPaths,
  set: TrustedKeySet,
  clock: Clock,
  next: (ids: readonly string[]) => readonly string[],
  apply: () => void,
): Promise<TrustChange> {
  mkdirSync(paths.dataDir, { recursive: true, mode: 0o755 });
  // The configuration's lock: one local change at a time, numbered in the order made.
  return withFileLock(
    paths.localConfigLock,
    () => {
      const problems: string[] = [];
      const before = trustedKeyIdsIn(set, { ownerUid: 0, log: (line) => problems.push(line) });
      const folder = set.folders.at(-1) ?? paths.dataDir;
      // A folder or key someone else owns or can write is ignored when packages are checked:
      // say so, and change nothing, rather than report a trust that would not hold.
      if (problems.length > 0) {
        throw new AgentError(
          'ERR_KEY_FILE_UNSAFE',
          `${set.label} are not safe: ${problems.join('; ')}. Make ${folder} and its files root's and not writable by others. Nothing was changed.`,
          { target: folder },
        );
      }
      const after = [...next(before)].sort();
      if (before.join(',') === after.join(',')) return { changed: false, keyIds: after };
      const value = (ids: readonly string[]): string =>
        ids.map((id) => set.journaled?.(id) ?? id).join(',');
      const [oldValue, newValue] = [value(before), value(after)];
      // A journal line the control plane would refuse would hold back every change after it.
      if (Math.max(oldValue.length, newValue.length) > MAX_LOCAL_CHANGE_VALUE_LENGTH) {
        throw new AgentError(
          'ERR_USAGE',
          `${set.label} would be too many to record (${after.length} keys); stop trusting some first. Nothing was changed.`,
          { target: folder },
        );
      }
      // Recorded and durable before the change is made, as configuration changes are.
      appendLocalChanges(
        paths.localChangeJournal,
        [
          {
            time: new Date(clock.now()).toISOString(),
            ...currentLocalActor(),
            property: set.property,
            oldValue,
            newValue,
          },
        ],
        (journalId) => acknowledgedLocalChanges(paths.serviceStatus('himds'), journalId),
        { groupId: expectedKeyOwner(paths).gid },
      );
      apply();
      return { changed: true, keyIds: after };
    },
    { clock },
  );
}
