// Finds the OS `himds` account (S6) from /etc/passwd and /etc/group, so the owner the machine key
// must have is a fact of the system, not an assumption; under a test root it is chosen explicitly.
import { readFileSync } from 'node:fs';
import { AgentError } from '../errors.js';
import type { AgentPaths } from '../paths.js';

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
 * Who must own the key and the himds-writable folders. On a real server (root `/`) the `himds`
 * account, or the user running the agent where there is none. Under a test or demo root the
 * machine's own accounts do not matter: the account named by AZCMAGENT_HIMDS_USER, or else the
 * user running the agent.
 */
export function expectedKeyOwner(
  paths: Pick<AgentPaths, 'root'>,
  env: NodeJS.ProcessEnv = process.env,
): { uid: number; gid: number; name: string } {
  const named = paths.root === '/' ? HIMDS_ACCOUNT : env.AZCMAGENT_HIMDS_USER;
  if (named !== undefined && named !== '') {
    const account = lookupAccount(named);
    if (account !== undefined) {
      return { uid: account.uid, gid: lookupGroup(named) ?? account.gid, name: named };
    }
    if (paths.root !== '/') {
      throw new AgentError(
        'ERR_INVALID_VALUE',
        `AZCMAGENT_HIMDS_USER names "${named}", which is not an account on this machine.`,
        { target: 'AZCMAGENT_HIMDS_USER' },
      );
    }
  }
  const uid = process.geteuid?.() ?? 0;
  return { uid, gid: process.getegid?.() ?? 0, name: `uid ${uid}` };
}
