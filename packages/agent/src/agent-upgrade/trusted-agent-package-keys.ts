// The keys this machine trusts to sign agent packages: `trusted-agent-package-keys/<key id>.pem`,
// root-owned, kept by the same code as the trusted publisher keys of extensions, so HIMDS (user
// himds) and the control plane cannot change what root trusts. Every change is written to the
// local-changes journal first, as `agentupgrade.trustedkeys` with the key ids before and after,
// and so reaches the control plane's activity log like `azcmagent config set`.
import type { KeyObject } from 'node:crypto';
import { publisherKeyId } from '@tether/protocol/extension-package';
import { systemClock, type Clock } from '../clock.js';
import { AgentError } from '../errors.js';
import {
  changeTrustedKeys,
  trustedKeyIdsIn,
  type TrustChange,
  type TrustedKeySet,
} from '../extensions/host/trusted-key-change.js';
import { addKeyIn, readKeysIn, removeKeyIn } from '../extensions/host/trusted-publishers.js';
import type { AgentPaths } from '../paths.js';

export type { TrustChange };

/** The journal's name for the set of trusted agent package keys. */
export const TRUSTED_KEYS_PROPERTY = 'agentupgrade.trustedkeys';

export interface KeyReadOptions {
  /** Who must own the folder and the keys: root, or the test's own uid. */
  readonly ownerUid: number;
  readonly log: (line: string) => void;
}

function keySet(paths: AgentPaths): TrustedKeySet {
  return {
    folders: [paths.trustedAgentPackageKeysDir],
    property: TRUSTED_KEYS_PROPERTY,
    label: 'The trusted keys for agent packages',
  };
}

/** The keys trusted for agent packages; empty when there are none, and upgrades are refused. */
export function readAgentPackageKeys(paths: AgentPaths, options: KeyReadOptions): KeyObject[] {
  return readKeysIn([paths.trustedAgentPackageKeysDir], options);
}

/** Trusts `key` for agent packages (root only: the caller checks). */
export function trustAgentPackageKey(
  paths: AgentPaths,
  key: KeyObject,
  clock: Clock = systemClock,
): Promise<TrustChange> {
  const keyId = publisherKeyId(key);
  return changeTrustedKeys(
    paths,
    keySet(paths),
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
  return changeTrustedKeys(
    paths,
    keySet(paths),
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
  return trustedKeyIdsIn(keySet(paths), options);
}
