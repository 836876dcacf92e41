// Who may own the files the extension host trusts (publisher keys, its state): root on a real
// server; under a test AZCMAGENT_ROOT run by an ordinary user, that user.
import type { AgentPaths } from '../../paths.js';

export function trustedOwnerUid(paths: AgentPaths): number {
  if (paths.root === '/') return 0;
  return process.geteuid?.() ?? 0;
}
