// Test helpers: real signed extension packages (yazl + signPackage) holding tiny shell-script
// handlers that log each call to a shared file and write their status like a real handler.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { ZipFile } from 'yazl';
import { signPackage, type PackageIdentity } from '@tether/protocol/extension-package';
import type { AgentPaths } from '../../../paths.js';
import type { FetchedPackage, PackageFetcher } from '../../extension-host.js';
import { addTrustedKey } from '../trusted-publishers.js';

export interface ZipEntry {
  readonly name: string;
  readonly content: string;
  readonly mode?: number;
}

export function buildZip(entries: readonly ZipEntry[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const zip = new ZipFile();
    for (const entry of entries) {
      zip.addBuffer(Buffer.from(entry.content), entry.name, {
        mode: entry.mode ?? 0o100644,
        mtime: new Date(0),
      });
    }
    zip.end();
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

export interface HandlerOptions {
  /** Every call appends `<version> <command> seq=<n>` here. */
  readonly callLog: string;
  readonly version: string;
  /** Shell run by enable after logging; by default it writes a success status. */
  readonly enable?: string;
  readonly install?: string;
  readonly disable?: string;
  readonly hostedCommand?: string;
}

const SUCCESS_STATUS =
  'printf \'[{"version":1.0,"timestampUTC":"2024-01-01T00:00:00Z","status":{"name":"t","operation":"Enable","status":"success","code":0,"formattedMessage":{"lang":"en-US","message":"enabled by the handler"}}}]\' > "status/$ConfigSequenceNumber.status"';

/** HandlerManifest.json and handler.sh for a package. */
export function handlerEntries(options: HandlerOptions): ZipEntry[] {
  const script = [
    '#!/bin/sh',
    `echo "${options.version} $1 seq=$ConfigSequenceNumber" >> '${options.callLog}'`,
    'case "$1" in',
    `  enable) ${options.enable ?? SUCCESS_STATUS} ;;`,
    `  install) ${options.install ?? 'true'} ;;`,
    `  disable) ${options.disable ?? 'true'} ;;`,
    'esac',
    '',
  ].join('\n');
  const manifest = {
    installCommand: './handler.sh install',
    uninstallCommand: './handler.sh uninstall',
    updateCommand: './handler.sh update',
    enableCommand: './handler.sh enable',
    disableCommand: './handler.sh disable',
    rebootAfterInstall: false,
    reportHeartbeat: false,
    updateMode: 'UpdateWithInstall',
    ...(options.hostedCommand === undefined ? {} : { hostedCommand: options.hostedCommand }),
  };
  return [
    {
      name: 'HandlerManifest.json',
      content: JSON.stringify([{ version: 1.0, handlerManifest: manifest }]),
    },
    { name: 'handler.sh', content: script, mode: 0o100755 },
  ];
}

export interface PublisherKeys {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function publisherKeys(kind: 'ed25519' | 'p256' = 'ed25519'): PublisherKeys {
  return kind === 'ed25519'
    ? generateKeyPairSync('ed25519')
    : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

export async function signedPackage(
  identity: PackageIdentity,
  zip: Buffer,
  privateKey: KeyObject,
): Promise<FetchedPackage> {
  return { zip, signature: await signPackage(privateKey, identity, zip) };
}

/** A fetcher serving fixed packages by `publisher/type/version`, counting requests. */
export function fixedFetcher(packages: ReadonlyMap<string, FetchedPackage>): PackageFetcher & {
  calls: string[];
} {
  const calls: string[] = [];
  const fetch = (identity: PackageIdentity): Promise<FetchedPackage> => {
    const key = `${identity.publisher}/${identity.type}/${identity.version}`;
    calls.push(key);
    const found = packages.get(key);
    return found === undefined
      ? Promise.reject(new Error(`no package ${key}`))
      : Promise.resolve(found);
  };
  return Object.assign(fetch, { calls });
}

export function trust(paths: AgentPaths, publisher: string, keys: PublisherKeys): string {
  return addTrustedKey(paths, publisher, keys.publicKey);
}
