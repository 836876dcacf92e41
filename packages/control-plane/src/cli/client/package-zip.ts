// Zips a package folder the same way every time — sorted entries, one fixed time, modes 755 or
// 644 — so the same folder always gives the same bytes and the same signature statement.
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ZipFile } from 'yazl';
import { usageError } from './cli-error.js';

/** Every entry gets this time, so the same folder always makes the same zip. */
const ZIP_MTIME = new Date(Date.UTC(1980, 0, 1));

interface FolderEntry {
  name: string;
  path: string;
  executable: boolean;
}

/** Regular files under `dir`, sorted by their name in the zip; links and devices are refused. */
async function folderEntries(dir: string, prefix = ''): Promise<FolderEntry[]> {
  const found: FolderEntry[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    const zipName = `${prefix}${name}`;
    const stats = await lstat(path);
    if (stats.isSymbolicLink()) {
      throw usageError(
        `${path} is a symbolic link; packages hold only regular files (agents refuse links), so copy the target in.`,
        '--dir',
      );
    }
    if (stats.isDirectory()) found.push(...(await folderEntries(path, `${zipName}/`)));
    else if (stats.isFile())
      found.push({ name: zipName, path, executable: (stats.mode & 0o111) !== 0 });
    else
      throw usageError(
        `${path} is not a regular file or folder; remove it from the package.`,
        '--dir',
      );
  }
  return found;
}

/** A file to put in a package zip. */
export interface ZipInput {
  name: string;
  data: Buffer;
  executable: boolean;
}

/** The same folder gives the same bytes: sorted entries, one fixed time, modes 755 or 644. */
export async function zipFolder(dir: string): Promise<Buffer> {
  const files: ZipInput[] = [];
  for (const entry of await folderEntries(dir)) {
    files.push({
      name: entry.name,
      data: await readFile(entry.path),
      executable: entry.executable,
    });
  }
  return zipFiles(files);
}

/** The same files give the same bytes, whatever order they come in. */
export async function zipFiles(files: readonly ZipInput[]): Promise<Buffer> {
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const zip = new ZipFile();
  for (const file of sorted) {
    zip.addBuffer(file.data, file.name, {
      mtime: ZIP_MTIME,
      mode: file.executable ? 0o100755 : 0o100644,
    });
  }
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolveZip, reject) => {
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolveZip(Buffer.concat(chunks)));
  });
  zip.end();
  return done;
}
