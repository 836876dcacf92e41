// `tether extension keygen|publish|list|show`: publisher keys and the signed package repository
// (docs/extensions.md, B1). A package is its folder zipped the same way every time, signed with
// the publisher's key here, so the repository only ever holds what the publisher signed.
import { generateKeyPairSync } from 'node:crypto';
import { lstat, mkdir, readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseExtensionName, TetherError } from '@tether/protocol';
import {
  PACKAGE_VERSION_PATTERN,
  publisherKeyId,
  signPackage,
  type PackageIdentity,
  type PackageMetadata,
} from '@tether/protocol/extension-package';
import { InvalidArgumentError, type Command } from 'commander';
import { processCliDeps, type CliDeps } from '../client/cli-deps.js';
import { usageError } from '../client/cli-error.js';
import {
  configureGroup,
  defineAction,
  outputOption,
  type OutputOptions,
} from '../client/command-kit.js';
import type { Column } from '../client/output-format.js';
import { zipFolder } from '../client/package-zip.js';
import { readPrivateKey } from '../client/publisher-key.js';

/** The repository's api-version. */
const QUERY = { 'api-version': '2024-07-10' };
const MAX_PACKAGE_BYTES = 32 * 1024 * 1024;
const MANIFEST = 'HandlerManifest.json';
const MANIFEST_COMMANDS = [
  'installCommand',
  'enableCommand',
  'disableCommand',
  'uninstallCommand',
  'updateCommand',
] as const;

interface NameOptions extends OutputOptions {
  publisher: string;
  type: string;
}

const PACKAGE_COLUMNS: readonly Column<PackageMetadata>[] = [
  { header: 'Publisher', value: (p) => p.publisher },
  { header: 'Type', value: (p) => p.type },
  { header: 'Version', value: (p) => p.version },
  { header: 'Size', value: (p) => p.size },
  { header: 'PublishedAt', value: (p) => p.publishedAt },
  { header: 'PublishedBy', value: (p) => p.publishedBy },
];

interface KeyPairPaths {
  privateKey: string;
  publicKey: string;
  keyId: string;
}

const KEY_COLUMNS: readonly Column<KeyPairPaths>[] = [
  { header: 'PrivateKey', value: (k) => k.privateKey },
  { header: 'PublicKey', value: (k) => k.publicKey },
  { header: 'KeyId', value: (k) => k.keyId },
];

export function register(program: Command, deps: CliDeps = processCliDeps()): void {
  const extension = configureGroup(program.command('extension'), deps).description(
    'Publisher keys and signed extension packages (keygen, publish, list, show).',
  );
  extension
    .command('keygen')
    .description(
      'Make an Ed25519 publisher key pair for extension, guest configuration or agent packages: publisher.key (0600) and publisher.pub.pem.',
    )
    .requiredOption('--out <dir>', 'folder to write the key pair to (created if missing)')
    .addOption(outputOption())
    .action(
      defineAction<OutputOptions & { out: string }>(deps, async (o, c) => {
        c.print(await writeKeyPair(resolve(o.out)), o.output, KEY_COLUMNS);
      }),
    );
  extension
    .command('publish')
    .description('Zip a handler folder, sign it with a publisher key and upload it.')
    .requiredOption('--dir <dir>', `the handler folder; ${MANIFEST} at its root`)
    .requiredOption('--publisher <publisher>', 'publisher, such as Contoso.Monitoring')
    .requiredOption('--type <type>', 'extension type, such as HealthProbe')
    .requiredOption('--version <version>', 'package version, such as 1.0.0', parseVersion)
    .requiredOption('--key <file>', 'the publisher private key (PEM), from tether extension keygen')
    .addOption(outputOption())
    .action(
      defineAction<NameOptions & { dir: string; version: string; key: string }>(
        deps,
        async (o, c) => {
          const identity = { ...parseName(o.publisher, o.type), version: o.version };
          const dir = resolve(o.dir);
          const keyFile = resolve(o.key);
          if (isInside(keyFile, dir)) {
            throw usageError(
              `The key file ${keyFile} is inside the package folder ${dir} and would be published with it; keep it elsewhere.`,
              '--key',
            );
          }
          const key = await readPrivateKey(keyFile);
          await checkManifest(dir);
          const zip = await zipFolder(dir);
          if (zip.byteLength > MAX_PACKAGE_BYTES) {
            throw usageError(
              `The package zip of ${dir} is ${zip.byteLength} bytes; the repository takes at most ${MAX_PACKAGE_BYTES} (32 MiB).`,
              '--dir',
            );
          }
          const signature = await signPackage(key, identity, zip);
          const session = await c.session();
          const published = await session.client.put<PackageMetadata>(
            versionPath(identity),
            { package: zip.toString('base64'), signature },
            { query: QUERY },
          );
          c.print(published, o.output, PACKAGE_COLUMNS);
        },
      ),
    );
  extension
    .command('list')
    .description('List published packages, newest version first; all of them by default.')
    .option('--publisher <publisher>', 'only this publisher')
    .option('--type <type>', 'only this extension type (with --publisher)')
    .addOption(outputOption())
    .action(
      defineAction<Partial<NameOptions> & OutputOptions>(deps, async (o, c) => {
        if (o.type !== undefined && o.publisher === undefined) {
          throw usageError(
            '--type needs --publisher: an extension type is named within its publisher.',
            '--type',
          );
        }
        const session = await c.session();
        let packages: PackageMetadata[];
        if (o.publisher !== undefined && o.type !== undefined) {
          const name = parseName(o.publisher, o.type);
          packages = await session.client.list<PackageMetadata>(
            `${typePath(name)}/versions`,
            QUERY,
          );
        } else {
          const all = await session.client.list<PackageMetadata>(
            '/providers/Tether.Extensions/packages',
            QUERY,
          );
          const publisher = o.publisher?.toLowerCase();
          packages = all.filter(
            (p) => publisher === undefined || p.publisher.toLowerCase() === publisher,
          );
        }
        c.printList(
          packages,
          o.output,
          PACKAGE_COLUMNS,
          o.publisher === undefined
            ? "No package is published yet; publish one with 'tether extension publish'."
            : `No package of ${[o.publisher, o.type ?? ''].join(' ').trim()} is published yet.`,
        );
      }),
    );
  extension
    .command('show')
    .description('Show one published package version: its SHA-256, size and signature.')
    .requiredOption('--publisher <publisher>', 'publisher')
    .requiredOption('--type <type>', 'extension type')
    .requiredOption('--version <version>', 'package version', parseVersion)
    .addOption(outputOption())
    .action(
      defineAction<NameOptions & { version: string }>(deps, async (o, c) => {
        const identity = { ...parseName(o.publisher, o.type), version: o.version };
        const session = await c.session();
        const found = await session.client.get<PackageMetadata>(versionPath(identity), QUERY);
        c.print(found, o.output, PACKAGE_COLUMNS);
      }),
    );
}

function parseName(publisher: string, type: string): { publisher: string; type: string } {
  try {
    const name = parseExtensionName(`${publisher}/${type}`);
    return { publisher: name.publisher, type: name.type };
  } catch (error) {
    if (!(error instanceof TetherError)) throw error;
    throw usageError(`${error.message} (from --publisher and --type)`, '--publisher');
  }
}

function parseVersion(value: string): string {
  if (PACKAGE_VERSION_PATTERN.test(value)) return value;
  throw new InvalidArgumentError('A version is 2 to 4 dotted numbers, such as 1.0 or 2.1.0.');
}

function typePath(name: { publisher: string; type: string }): string {
  return `/providers/Tether.Extensions/publishers/${encodeURIComponent(name.publisher)}/types/${encodeURIComponent(name.type)}`;
}

function versionPath(identity: PackageIdentity): string {
  return `${typePath(identity)}/versions/${encodeURIComponent(identity.version)}`;
}

function isInside(file: string, dir: string): boolean {
  const path = relative(dir, file);
  return path !== '' && path !== '..' && !path.startsWith(`..${sep}`) && !isAbsolute(path);
}

async function writeKeyPair(dir: string): Promise<KeyPairPaths> {
  const paths = {
    privateKey: join(dir, 'publisher.key'),
    publicKey: join(dir, 'publisher.pub.pem'),
  };
  for (const path of Object.values(paths)) {
    if (await exists(path)) {
      throw usageError(
        `${path} already exists; choose another --out folder or move the old key away.`,
        '--out',
      );
    }
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // 'wx' fails rather than overwrite a key written meanwhile; the mode applies on creation.
  await writeFile(paths.privateKey, privateKey.export({ format: 'pem', type: 'pkcs8' }), {
    flag: 'wx',
    mode: 0o600,
  });
  await writeFile(paths.publicKey, publicKey.export({ format: 'pem', type: 'spki' }), {
    flag: 'wx',
    mode: 0o644,
  });
  return { ...paths, keyId: publisherKeyId(privateKey) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** The folder must hold a handler manifest naming every lifecycle command the agent runs. */
async function checkManifest(dir: string): Promise<void> {
  const path = join(dir, MANIFEST);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw usageError(
      `${dir} has no ${MANIFEST}; a handler folder needs one at its root naming its ${MANIFEST_COMMANDS.join(', ')}.`,
      '--dir',
    );
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw usageError(`${path} is not valid JSON: ${(error as Error).message}.`, '--dir');
  }
  const entry: unknown = Array.isArray(manifest) ? manifest[0] : undefined;
  const handler =
    typeof entry === 'object' && entry !== null
      ? (entry as Record<string, unknown>)['handlerManifest']
      : undefined;
  if (typeof handler !== 'object' || handler === null) {
    throw usageError(
      `${path} must be a JSON array whose first entry has a "handlerManifest" object, as in [{"version": 1.0, "handlerManifest": {"installCommand": "…", …}}].`,
      '--dir',
    );
  }
  const missing = MANIFEST_COMMANDS.filter((name) => {
    const command = (handler as Record<string, unknown>)[name];
    return typeof command !== 'string' || command.trim() === '';
  });
  if (missing.length > 0) {
    throw usageError(`${path} names no ${missing.join(', ')} in its handlerManifest.`, '--dir');
  }
}
