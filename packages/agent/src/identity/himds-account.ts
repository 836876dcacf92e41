// Finds the OS `himds` account (S6) from /etc/passwd and /etc/group, so the owner the machine key
// must have is a fact of the system, not an assumption; absent under test roots on dev machines.
import { readFileSync } from 'node:fs';

export interface OsAccount {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

export const HIMDS_ACCOUNT = 'himds';

/** The named user with its primary group, or undefined when the system has no such user. */
export function lookupAccount(name: string, passwdFile = '/etc/passwd'): OsAccount | undefined {
  let text: string;
  try {
    text = readFileSync(passwdFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] !== name || fields.length < 4) continue;
    const uid = Number(fields[2]);
    const gid = Number(fields[3]);
    if (Number.isInteger(uid) && Number.isInteger(gid)) return { name, uid, gid };
  }
  return undefined;
}

/** The gid of a named group, or undefined. */
export function lookupGroup(name: string, groupFile = '/etc/group'): number | undefined {
  let text: string;
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields.length >= 3 && /^\d+$/.test(fields[2] ?? '')) {
      return Number(fields[2]);
    }
  }
  return undefined;
}

/**
 * Who must own the key and the himds-writable folders: the `himds` account when it exists,
 * otherwise the user running the agent (a test root on a machine without the account).
 */
export function expectedKeyOwner(): { uid: number; gid: number; name: string } {
  const himds = lookupAccount(HIMDS_ACCOUNT);
  if (himds !== undefined) {
    return { uid: himds.uid, gid: lookupGroup(HIMDS_ACCOUNT) ?? himds.gid, name: HIMDS_ACCOUNT };
  }
  const uid = process.geteuid?.() ?? 0;
  return { uid, gid: process.getegid?.() ?? 0, name: `uid ${uid}` };
}
