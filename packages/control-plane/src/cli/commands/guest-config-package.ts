// `tether guest-config package publish|list`: a configuration (configuration.json, alone or in
// its folder) validated as agents will, zipped, signed as a guest configuration — never as an
// extension, so neither kind of package passes for the other — and uploaded to the repository.
import { lstat, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import {
  CONFIGURATION_FILE,
  GUEST_CONFIGURATION_SIGNATURE_TYPE,
  isTetherError,
  parseGuestConfiguration,
  type GuestConfiguration,
} from '@tether/protocol';
import {
  PACKAGE_VERSION_PATTERN,
  signPackage,
  type PackageMetadata,
} from '@tether/protocol/extension-package';
import { InvalidArgumentError, type Command } from 'commander';
import { decodeProtectedHeader } from 'jose';
import { API_VERSIONS } from '../client/api-versions.js';
import type { CliDeps } from '../client/cli-deps.js';
import { usageError } from '../client/cli-error.js';
import {
  defineAction,
  outputOption,
  type ActionContext,
  type OutputOptions,
} from '../client/command-kit.js';
import type { Column } from '../client/output-format.js';
import { zipFiles, zipFolder } from '../client/package-zip.js';
import { readPrivateKey } from '../client/publisher-key.js';

const QUERY = { 'api-version': API_VERSIONS.extensionRepository };
const MAX_PACKAGE_BYTES = 32 * 1024 * 1024;

interface PublishOptions extends OutputOptions {
  dir?: string;
  file?: string;
  publisher: string;
  name?: string;
  version?: string;
  key: string;
}

const COLUMNS: readonly Column<PackageMetadata>[] = [
  { header: 'Publisher', value: (p) => p.publisher },
  { header: 'Name', value: (p) => p.type },
  { header: 'Version', value: (p) => p.version },
  { header: 'Size', value: (p) => p.size },
  { header: 'PublishedAt', value: (p) => p.publishedAt },
  { header: 'PublishedBy', value: (p) => p.publishedBy },
];

export function registerGuestConfigPackages(group: Command, deps: CliDeps): void {
  const pkg = group
    .command('package')
    .description('Signed guest configuration packages in the repository.');
  pkg
    .command('publish')
    .description(
      `Validate a configuration, zip it, sign it with a publisher key and upload it; the configuration's name is the name policies and assignments use.`,
    )
    .option('--dir <dir>', `a folder with ${CONFIGURATION_FILE} at its root`)
    .option('--file <file>', `a ${CONFIGURATION_FILE} file, packaged on its own`)
    .requiredOption('--publisher <publisher>', 'publisher, such as Contoso.Baselines')
    .option('-n, --name <name>', "the configuration's name (default: the one in the file)")
    .option('--version <version>', 'the version (default: the one in the file)', parseVersion)
    .requiredOption('--key <file>', 'the publisher private key (PEM), from tether extension keygen')
    .addOption(outputOption())
    .action(defineAction<PublishOptions>(deps, publish));
  pkg
    .command('list')
    .description('List published guest configuration packages, newest version first.')
    .option('--publisher <publisher>', 'only this publisher')
    .option('-n, --name <name>', 'only this configuration')
    .addOption(outputOption())
    .action(
      defineAction<OutputOptions & { publisher?: string; name?: string }>(deps, async (o, c) => {
        const session = await c.session();
        const all = await session.client.list<PackageMetadata>(
          '/providers/Tether.Extensions/packages',
          QUERY,
        );
        const same = (a: string, b: string | undefined): boolean =>
          b === undefined || a.toLowerCase() === b.toLowerCase();
        c.printList(
          all.filter(
            (p) =>
              isGuestConfiguration(p.signature) &&
              same(p.publisher, o.publisher) &&
              same(p.type, o.name),
          ),
          o.output,
          COLUMNS,
          o.publisher === undefined && o.name === undefined
            ? "No guest configuration package is published yet; publish one with 'tether guest-config package publish'."
            : `No guest configuration package of ${[o.publisher ?? '', o.name ?? ''].join(' ').trim()} is published yet.`,
        );
      }),
    );
}

async function publish(o: PublishOptions, c: ActionContext): Promise<void> {
  if ((o.dir === undefined) === (o.file === undefined)) {
    throw usageError(
      `pass exactly one of --dir (a folder with ${CONFIGURATION_FILE}) or --file (the ${CONFIGURATION_FILE} itself).`,
      '--dir',
    );
  }
  const keyFile = resolve(o.key);
  const dir = o.dir === undefined ? undefined : resolve(o.dir);
  if (dir !== undefined && isInside(keyFile, dir)) {
    throw usageError(
      `The key file ${keyFile} is inside the package folder ${dir} and would be published with it; keep it elsewhere.`,
      '--key',
    );
  }
  const key = await readPrivateKey(keyFile);
  const source = dir === undefined ? resolve(o.file ?? '') : join(dir, CONFIGURATION_FILE);
  const flag = dir === undefined ? '--file' : '--dir';
  const text = await readConfigurationText(source, flag);
  const configuration = validate(text, source, flag);
  if (o.name !== undefined && o.name !== configuration.name) {
    throw usageError(
      `--name ${o.name} differs from the name "${configuration.name}" in ${source}; agents run a package only under the name inside it, so make them the same.`,
      '--name',
    );
  }
  if (o.version !== undefined && o.version !== configuration.version) {
    throw usageError(
      `--version ${o.version} differs from the version "${configuration.version}" in ${source}; make them the same.`,
      '--version',
    );
  }
  const zip =
    dir === undefined
      ? await zipFiles([{ name: CONFIGURATION_FILE, data: Buffer.from(text), executable: false }])
      : await zipFolder(dir);
  if (zip.byteLength > MAX_PACKAGE_BYTES) {
    throw usageError(
      `The package zip is ${zip.byteLength} bytes; the repository takes at most ${MAX_PACKAGE_BYTES} (32 MiB).`,
      flag,
    );
  }
  const identity = {
    publisher: o.publisher,
    type: configuration.name,
    version: configuration.version,
  };
  const signature = await signPackage(key, identity, zip, GUEST_CONFIGURATION_SIGNATURE_TYPE);
  const session = await c.session();
  const published = await session.client.put<PackageMetadata>(
    `/providers/Tether.Extensions/publishers/${encodeURIComponent(identity.publisher)}/types/${encodeURIComponent(identity.type)}/versions/${encodeURIComponent(identity.version)}`,
    { package: zip.toString('base64'), signature },
    { query: QUERY },
  );
  c.print(published, o.output, COLUMNS);
}

async function readConfigurationText(path: string, flag: string): Promise<string> {
  try {
    const stats = await lstat(path);
    if (!stats.isFile()) {
      throw usageError(`${path} is not a regular file; ${flag} needs ${CONFIGURATION_FILE}.`, flag);
    }
    return await readFile(path, 'utf8');
  } catch (error) {
    if (isTetherError(error)) throw error;
    throw usageError(
      `Cannot read ${path}: ${(error as Error).message}. ${flag === '--dir' ? `The folder needs ${CONFIGURATION_FILE} at its root.` : ''}`.trim(),
      flag,
    );
  }
}

/** The same checks an agent makes before it evaluates anything. */
function validate(text: string, path: string, flag: string): GuestConfiguration {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw usageError(`${path} is not valid JSON: ${(error as Error).message}.`, flag);
  }
  try {
    return parseGuestConfiguration(json);
  } catch (error) {
    if (!isTetherError(error)) throw error;
    throw usageError(`${path} is not a valid guest configuration: ${error.message}`, flag);
  }
}

function isGuestConfiguration(signature: string): boolean {
  try {
    return decodeProtectedHeader(signature).typ === GUEST_CONFIGURATION_SIGNATURE_TYPE;
  } catch {
    return false;
  }
}

function parseVersion(value: string): string {
  if (PACKAGE_VERSION_PATTERN.test(value)) return value;
  throw new InvalidArgumentError('A version is 2 to 4 dotted numbers, such as 1.0 or 2.1.0.');
}

function isInside(file: string, dir: string): boolean {
  const path = relative(dir, file);
  return path !== '' && path !== '..' && !path.startsWith(`..${sep}`) && !isAbsolute(path);
}
