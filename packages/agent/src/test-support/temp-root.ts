// A fresh AZCMAGENT_ROOT per test under the OS temp folder, removed afterwards.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentPaths, type AgentPaths } from '../paths.js';

export interface TempRoot {
  readonly root: string;
  readonly paths: AgentPaths;
  /** Writes localconfig.json directly (as an editor or an attacker would), mode 0644 by default. */
  writeConfig(text: string, mode?: number): void;
  remove(): void;
}

export function makeTempRoot(): TempRoot {
  const root = mkdtempSync(join(tmpdir(), 'azcmagent-root-'));
  const paths = agentPaths(root);
  return {
    root,
    paths,
    writeConfig(text, mode = 0o644) {
      mkdirSync(paths.dataDir, { recursive: true });
      chmodSync(paths.dataDir, 0o755); // whatever the umask: the loader checks the folder too
      writeFileSync(paths.localConfig, text);
      chmodSync(paths.localConfig, mode);
    },
    remove() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
