// Machine keys replaced by a credential renewal. The control plane keeps protected extension
// settings sealed to the key they arrived under, so the machine keeps its last few keys — in a
// folder only the key's owner can enter, for opening those settings only, never to sign in.
import { chownSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentPaths } from '../paths.js';
import { parseMachineKey, writeMachineKey, type MachineKey } from './machine-key.js';

/** With renewals every ~45 days, about a year of sealed settings stays readable. */
export const RETIRED_KEYS_KEPT = 8;

/** A key id is base64url SHA-256: 43 characters, nothing that could leave the folder. */
const KEY_ID = /^[A-Za-z0-9_-]{43}$/;

export function retireMachineKey(
  paths: AgentPaths,
  key: MachineKey,
  owner: { uid: number; gid: number },
): void {
  mkdirSync(paths.retiredKeysDir, { recursive: true, mode: 0o700 });
  if (process.geteuid?.() === 0) chownSync(paths.retiredKeysDir, owner.uid, owner.gid);
  writeMachineKey(join(paths.retiredKeysDir, `${key.keyId}.key`), key, owner);
  const kept = readdirSync(paths.retiredKeysDir)
    .filter((name) => name.endsWith('.key'))
    .map((name) => ({ name, at: statSync(join(paths.retiredKeysDir, name)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const old of kept.slice(RETIRED_KEYS_KEPT)) {
    rmSync(join(paths.retiredKeysDir, old.name), { force: true });
  }
}

/** The retired key with this id, or undefined when the machine no longer has it. */
export function findRetiredKey(paths: AgentPaths, keyId: string): MachineKey | undefined {
  if (!KEY_ID.test(keyId)) return undefined;
  let pem: string;
  try {
    pem = readFileSync(join(paths.retiredKeysDir, `${keyId}.key`), 'utf8');
  } catch {
    return undefined;
  }
  const key = parseMachineKey(pem);
  return key.keyId === keyId ? key : undefined;
}

/** On disconnect: no key of this machine outlives its connection. */
export function removeRetiredKeys(paths: AgentPaths): void {
  rmSync(paths.retiredKeysDir, { recursive: true, force: true });
}
