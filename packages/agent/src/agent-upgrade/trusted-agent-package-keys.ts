// The keys this machine trusts to sign agent packages: `trusted-agent-package-keys/<key id>.pem`,
// root-owned, kept by the same code as the trusted publisher keys of extensions, so HIMDS (user
// himds) and the control plane cannot change what root trusts. Every change is written to the
// local-changes journal first, as `agentupgrade.trustedkeys` with the key ids before and after,
// and so reaches the control plane's activity log like `azcmagent config set`.
import type { KeyObject } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { publisherKeyId } from '@tether/protocol/extension-package';
import { systemClock, type Clock } from '../clock.js';
import { acknowledgedLocalChanges } from '../config/acknowledged-local-changes.js';
import { withFileLock } from '../config/file-lock.js';
import { currentLocalActor } from '../config/local-actor.js';
import { appendLocalChanges } from '../config/local-change-journal.js';
import { AgentError } from '../errors.js';
import { addKeyIn, readKeysIn, removeKeyIn } from '../extensions/host/trusted-publishers.js';
import { expectedKeyOwner } from '../identity/himds-account.js';
import type { AgentPaths } from '../paths.js';

/** The journal's name for the set of trusted agent package keys. */
export const TRUSTED_KEYS_PROPERTY = 'agentupgrade.trustedkeys';

export interface KeyReadOptions {
  /** Who must own the folder and the keys: root, or the test's own uid. */
  readonly ownerUid: number;
  readonly log: (line: string) => void;
}

/** The keys trusted for agent packages; empty when there are none, and upgrades are refused. */
export function readAgentPackageKeys(paths: AgentPaths, options: KeyReadOptions): KeyObject[] {
  return readKeysIn([paths.trustedAgentPackageKeysDir], options);
}

export interface TrustChange {
  /** False when the trust was already so: nothing written, nothing journaled. */
  readonly changed: boolean;
  readonly keyIds: readonly string[];
}

/** Trusts `key` for agent packages (root only: the caller checks). */
export function trustAgentPackageKey(
  paths: AgentPaths,
  key: KeyObject,
  clock: Clock = systemClock,
): Promise<TrustChange> {
  const keyId = publisherKeyId(key);
  return changeTrust(
    paths,
    clock,
    (ids) => (ids.includes(keyId) ? ids : [...ids, keyId]),
    () => {
      addKeyIn([paths.trustedAgentPackageKeysDir], key);
    },
  );
}

/** Stops trusting the key `keyId`; refuses one that is not trusted. */
export function untrustAgentPackageKey(
  paths: AgentPaths,
  keyId: string,
  clock: Clock = systemClock,
): Promise<TrustChange> {
  return changeTrust(
    paths,
    clock,
    (ids) => {
      if (!ids.includes(keyId)) {
        throw new AgentError(
          'ERR_USAGE',
          `No key ${keyId} is trusted for agent packages here (trusted: ${ids.join(', ') || 'none'}). Nothing was changed.`,
        );
      }
      return ids.filter((id) => id !== keyId);
    },
    () => {
      removeKeyIn(paths.trustedAgentPackageKeysDir, keyId);
    },
  );
}

/** The ids of the trusted keys, sorted: what `--list` and the journal show. */
export function trustedKeyIds(paths: AgentPaths, options: KeyReadOptions): string[] {
  return readAgentPackageKeys(paths, options)
    .map((key) => publisherKeyId(key))
    .sort();
}

async function changeTrust(
  paths: AgentPaths,
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
      const before = trustedKeyIds(paths, { ownerUid: 0, log: (line) => problems.push(line) });
      // A folder or key someone else owns or can write is ignored when upgrades are checked:
      // say so, and change nothing, rather than report a trust that would not hold.
      if (problems.length > 0) {
        throw new AgentError(
          'ERR_KEY_FILE_UNSAFE',
          `The trusted keys for agent packages are not safe: ${problems.join('; ')}. Make ${paths.trustedAgentPackageKeysDir} and its files root's and not writable by others. Nothing was changed.`,
          { target: paths.trustedAgentPackageKeysDir },
        );
      }
      const after = [...next(before)].sort();
      if (before.join(',') === after.join(',')) return { changed: false, keyIds: after };
      // Recorded and durable before the change is made, as configuration changes are.
      appendLocalChanges(
        paths.localChangeJournal,
        [
          {
            time: new Date(clock.now()).toISOString(),
            ...currentLocalActor(),
            property: TRUSTED_KEYS_PROPERTY,
            oldValue: before.join(','),
            newValue: after.join(','),
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
