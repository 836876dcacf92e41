// The data directory's layout: the SQLite database, the TLS material and (unless the
// administrator keeps it elsewhere) the key-encryption key, in a directory only the service
// user can enter.
import { join, resolve } from 'node:path';
import { ensurePrivateDir } from '../tls/private-files.js';

export interface DataDirPaths {
  root: string;
  database: string;
  tls: string;
  /** The key-encryption key `tether init` makes when not given one elsewhere. */
  keyEncryptionKey: string;
}

export function dataDirPaths(dir: string): DataDirPaths {
  const root = resolve(dir);
  return {
    root,
    database: join(root, 'tether.db'),
    tls: join(root, 'tls'),
    keyEncryptionKey: join(root, 'key-encryption.key'),
  };
}

export async function ensureDataDir(paths: DataDirPaths): Promise<void> {
  await ensurePrivateDir(paths.root);
}
