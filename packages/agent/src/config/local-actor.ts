// Who is changing the local configuration, for the audit journal: the process's real uid (the
// authority), its account name when it resolves, and the uid sudo reports as its caller.
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';

export interface LocalActor {
  readonly uid: number;
  readonly userName?: string;
  readonly sudoUid?: number;
}

/** Account names as the journal's readers accept them; anything else is left out, not mangled. */
const ACCOUNT_NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.@-]{0,255}\$?$/;
const MAX_UID = 0xffff_fffe;

export function currentLocalActor(env: NodeJS.ProcessEnv = process.env): LocalActor {
  const uid = process.getuid?.() ?? 0;
  const name = accountName(uid);
  const sudo = env.SUDO_UID;
  const sudoUid = sudo !== undefined && /^\d{1,10}$/.test(sudo) ? Number(sudo) : undefined;
  return {
    uid,
    ...(name !== undefined && ACCOUNT_NAME.test(name) ? { userName: name } : {}),
    ...(sudoUid !== undefined && sudoUid <= MAX_UID ? { sudoUid } : {}),
  };
}

/**
 * The name service knows the effective user; a real uid that differs (a setuid wrapper) is
 * looked up in /etc/passwd, and stays nameless if it is not there.
 */
function accountName(uid: number): string | undefined {
  if (uid === process.geteuid?.()) {
    try {
      return userInfo().username;
    } catch {
      return undefined;
    }
  }
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (id === String(uid)) return name;
    }
  } catch {
    // Nameless: the uid alone identifies the user.
  }
  return undefined;
}
