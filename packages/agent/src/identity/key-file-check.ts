// The machine key must be a regular file owned by the himds account and readable by no one else
// (S17): services refuse to start otherwise, naming the file, the problem and the fix.
import { lstatSync } from 'node:fs';
import { AgentError } from '../errors.js';

export interface KeyOwner {
  readonly uid: number;
  readonly name: string;
}

/** undefined when the file is safe; otherwise what is wrong with it and how to fix it. */
export function keyFileProblem(path: string, owner: KeyOwner): string | undefined {
  const stats = lstatSync(path, { throwIfNoEntry: false });
  if (stats === undefined)
    return `${path} does not exist; reconnect the machine with 'sudo azcmagent connect'`;
  if (stats.isSymbolicLink())
    return `${path} is a symbolic link; replace it with the key file itself`;
  if (!stats.isFile()) return `${path} is not a regular file`;
  if (stats.uid !== owner.uid) {
    return `${path} is owned by uid ${stats.uid}, not ${owner.name} (uid ${owner.uid}); fix it with 'sudo chown ${owner.uid} ${path}'`;
  }
  const mode = stats.mode & 0o777;
  if (mode !== 0o600) {
    return `${path} has mode ${mode.toString(8).padStart(4, '0')}, not 0600; fix it with 'sudo chmod 600 ${path}'`;
  }
  return undefined;
}

export function assertKeyFileSafe(path: string, owner: KeyOwner): void {
  const problem = keyFileProblem(path, owner);
  if (problem !== undefined) {
    throw new AgentError('ERR_KEY_FILE_UNSAFE', `Refusing to start: the machine key ${problem}.`, {
      target: path,
    });
  }
}
