// `azcmagent extension trust|untrust`: root adds or removes a publisher's key in the trust store,
// journaled first as `extensions.trustedkeys` with that publisher's keys before and after (each
// `<Publisher>/<key id>`), so the change reaches the control plane's activity log.
import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { publisherKeyId } from '@tether/protocol/extension-package';
import { systemClock, type Clock } from '../../clock.js';
import { AgentError } from '../../errors.js';
import type { AgentPaths } from '../../paths.js';
import { assertPublisherName, publisherKeyFileName } from './publisher-key.js';
import { changeTrustedKeys, type TrustChange, type TrustedKeySet } from './trusted-key-change.js';
import { addKeyIn, publisherFolders, removeKeyIn } from './trusted-publishers.js';

/** The journal's name for a publisher's trusted keys. */
export const TRUSTED_PUBLISHER_KEYS_PROPERTY = 'extensions.trustedkeys';

function keySet(paths: AgentPaths, publisher: string): TrustedKeySet {
  assertPublisherName(publisher);
  return {
    folders: publisherFolders(paths, publisher),
    property: TRUSTED_PUBLISHER_KEYS_PROPERTY,
    label: `The trusted keys of publisher ${publisher}`,
    journaled: (keyId) => `${publisher}/${keyId}`,
  };
}

/** Trusts `key` for `publisher`'s packages; returns the change and the key's file. */
export async function trustPublisherKey(
  paths: AgentPaths,
  publisher: string,
  key: KeyObject,
  clock: Clock = systemClock,
): Promise<TrustChange & { file: string }> {
  const set = keySet(paths, publisher);
  const keyId = publisherKeyId(key);
  let file = '';
  const change = await changeTrustedKeys(
    paths,
    set,
    clock,
    (ids) => (ids.includes(keyId) ? ids : [...ids, keyId]),
    () => {
      file = addKeyIn(set.folders, key);
    },
  );
  return { ...change, file: file || join(set.folders.at(-1) ?? '', publisherKeyFileName(key)) };
}

/** Stops trusting `publisher`'s key `keyId`; refuses one that is not trusted. */
export function untrustPublisherKey(
  paths: AgentPaths,
  publisher: string,
  keyId: string,
  clock: Clock = systemClock,
): Promise<TrustChange> {
  const set = keySet(paths, publisher);
  return changeTrustedKeys(
    paths,
    set,
    clock,
    (ids) => {
      if (!ids.includes(keyId)) {
        throw new AgentError(
          'ERR_USAGE',
          `No key ${keyId} of publisher ${publisher} is trusted here (trusted: ${ids.join(', ') || 'none'}). Nothing was changed.`,
        );
      }
      return ids.filter((id) => id !== keyId);
    },
    () => {
      removeKeyIn(set.folders.at(-1) ?? '', keyId);
    },
  );
}
