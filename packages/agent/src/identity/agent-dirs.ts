// The folders connect prepares: root-owned data, log and status folders, and the ones the
// unprivileged HIMDS service writes (its key folder, challenge tokens, its own status) owned by
// the himds account — nothing root's services read to decide what to trust or run.
import { chmodSync, chownSync, closeSync, mkdirSync, openSync } from 'node:fs';
import type { AgentPaths } from '../paths.js';

export function prepareAgentDirs(paths: AgentPaths, himds: { uid: number; gid: number }): void {
  const asRoot = process.geteuid?.() === 0;
  const make = (dir: string, mode: number, uid: number, gid: number): void => {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, mode);
    if (asRoot) chownSync(dir, uid, gid);
  };
  make(paths.dataDir, 0o755, 0, 0);
  make(paths.logDir, 0o755, 0, 0);
  // HIMDS runs unprivileged and cannot create files in the root-owned log folder.
  closeSync(openSync(paths.himdsLog, 'a', 0o640));
  chmodSync(paths.himdsLog, 0o640);
  if (asRoot) chownSync(paths.himdsLog, himds.uid, himds.gid);
  // HIMDS replaces its own key when it renews the credential.
  make(paths.certsDir, 0o755, himds.uid, himds.gid);
  // Challenge files are read by members of the himds group only (S16).
  make(paths.tokensDir, 0o750, himds.uid, himds.gid);
  make(paths.statusDir, 0o755, 0, 0);
  make(paths.himdsStatusDir, 0o755, himds.uid, himds.gid);
}
