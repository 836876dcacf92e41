// The data directory's layout: the SQLite database and the TLS material, in a directory only
// the service user can enter.
import { join, resolve } from 'node:path';
import { ensurePrivateDir } from '../tls/private-files.js';

export interface DataDirPaths {
  root: string;
  database: string;
  tls: string;
}

export function dataDirPaths(dir: string): DataDirPaths {
  const root = resolve(dir);
  return { root, database: join(root, 'tether.db'), tls: join(root, 'tls') };
}

export async function ensureDataDir(paths: DataDirPaths): Promise<void> {
  await ensurePrivateDir(paths.root);
}
