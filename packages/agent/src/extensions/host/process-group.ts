// Handler commands and hosted processes each lead their own process group, so a timeout or a
// stop reaches everything they started, not just the shell.

/** Signals the whole group led by `pid` (0 only probes); false when no such group is left. */
export function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}
