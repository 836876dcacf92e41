// Byte-exact snapshots of the agent's data folder, to prove a refused command changed nothing.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentPaths } from '../paths.js';

export function snapshotDataDir(paths: AgentPaths): Record<string, string> {
  let names: string[];
  try {
    names = readdirSync(paths.dataDir).sort();
  } catch {
    return {};
  }
  return Object.fromEntries(
    names.map((name) => [name, readFileSync(join(paths.dataDir, name), 'base64')]),
  );
}
