// Gets a package onto disk safely: download through the fetcher, keep the zip in downloads/,
// verify its signature against the keys trusted for its publisher, and only then unpack it —
// into a temporary folder beside the target, renamed into place once complete.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { verifyPackage, type PackageIdentity } from '@tether/protocol/extension-package';
import { AgentError } from '../../errors.js';
import type { AgentPaths } from '../../paths.js';
import type { PackageFetcher } from '../extension-host.js';
import { MANIFEST_FILE, parseHandlerManifest, type HandlerManifest } from './handler-manifest.js';
import { readTrustedKeys } from './trusted-publishers.js';
import { DEFAULT_EXTRACT_LIMITS, extractZip, planZip, type ExtractLimits } from './zip-extract.js';

export interface InstallPackageOptions {
  readonly paths: AgentPaths;
  readonly ownerUid: number;
  readonly log: (line: string) => void;
  readonly limits?: ExtractLimits;
}

export interface InstalledPackage {
  readonly dir: string;
  readonly manifest: HandlerManifest;
}

/**
 * Returns the unpacked handler folder `var/lib/waagent/<Publisher.Type-version>`. Throws an
 * AgentError (ERR_EXTENSION_DOWNLOAD_FAILED, ERR_PACKAGE_SIGNATURE, ERR_EXTENSION_PACKAGE_INVALID);
 * on any refusal nothing is left in the extensions folder.
 */
export async function installPackage(
  identity: PackageIdentity,
  fetch: PackageFetcher,
  options: InstallPackageOptions,
): Promise<InstalledPackage> {
  const { paths } = options;
  const name = `${identity.publisher}.${identity.type}-${identity.version}`;
  const target = paths.extensionDir(identity.publisher, identity.type, identity.version);
  let fetched;
  try {
    fetched = await fetch(identity);
  } catch (error) {
    throw new AgentError(
      'ERR_EXTENSION_DOWNLOAD_FAILED',
      `Cannot download the package ${name}: ${(error as Error).message}`,
      { cause: error, target: name },
    );
  }
  const zip = Buffer.from(fetched.zip.buffer, fetched.zip.byteOffset, fetched.zip.byteLength);
  mkdirSync(paths.downloadsDir, { recursive: true, mode: 0o755 });
  const download = join(paths.downloadsDir, `${name}.zip`);
  writeFileSync(`${download}.tmp`, zip, { mode: 0o600 });
  renameSync(`${download}.tmp`, download);

  const keys = readTrustedKeys(paths, identity.publisher, options);
  try {
    // The bytes in memory are what gets verified and what gets unpacked.
    await verifyPackage(fetched.signature, keys, identity, zip);
  } catch (error) {
    rmSync(download, { force: true });
    throw new AgentError(
      'ERR_PACKAGE_SIGNATURE',
      `${(error as Error).message} Nothing was installed. Trust the publisher's key with 'sudo azcmagent extension trust --publisher ${identity.publisher} --key FILE' if it is genuine.`,
      { cause: error, target: name },
    );
  }
  options.log(`package ${name} verified against the keys trusted for ${identity.publisher}`);

  const planned = await planZip(zip, name, options.limits ?? DEFAULT_EXTRACT_LIMITS);
  if (!planned.some((item) => item.relative === MANIFEST_FILE && !item.directory)) {
    throw new AgentError(
      'ERR_EXTENSION_PACKAGE_INVALID',
      `The package ${name} has no ${MANIFEST_FILE} at its top level.`,
      { target: name },
    );
  }
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  const temporary = join(
    dirname(target),
    `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    await extractZip(zip, temporary, planned);
    const manifest = parseHandlerManifest(
      readFileSync(join(temporary, MANIFEST_FILE), 'utf8'),
      `${name}/${MANIFEST_FILE}`,
    );
    rmSync(target, { recursive: true, force: true });
    renameSync(temporary, target);
    return { dir: target, manifest };
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    if (error instanceof AgentError) throw error;
    throw new AgentError(
      'ERR_EXTENSION_PACKAGE_INVALID',
      `The package ${name} cannot be unpacked: ${(error as Error).message}`,
      { cause: error, target: name },
    );
  }
}
