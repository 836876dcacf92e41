// Signed extension packages for the extension benchmarks, made as a publisher makes them: a key
// from `tether extension keygen` and `tether extension publish`, signed in from the environment.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Installation } from './machine-fleet.js';
import { TETHER_BIN } from './tether-process.js';

/** Who the CLI signs in as: the installation's bootstrap Owner, against the server at `url`. */
export interface CliIdentity {
  readonly install: Installation;
  readonly url: string;
  /** TETHER_CONFIG_DIR and HOME of the CLI: a scratch directory. */
  readonly configDir: string;
}

export interface PublisherKey {
  /** PKCS#8 PEM private key. */
  readonly keyFile: string;
  /** SPKI PEM public key: what agents trust. */
  readonly publicKeyFile: string;
}

export interface PackageRef {
  readonly publisher: string;
  readonly type: string;
  readonly version: string;
  readonly dir: string;
}

/** packages/extensions/dist/packages, from packages/bench/dist/. */
const FIRST_PARTY_DIR = fileURLToPath(new URL('../../extensions/dist/packages/', import.meta.url));

/** A first-party package as packages/extensions builds it (index.json). */
export function firstPartyPackage(publisher: string, type: string): PackageRef {
  const index = JSON.parse(readFileSync(join(FIRST_PARTY_DIR, 'index.json'), 'utf8')) as {
    publisher: string;
    type: string;
    version: string;
    dir: string;
  }[];
  const entry = index.find((e) => e.publisher === publisher && e.type === type);
  if (entry === undefined) {
    throw new Error(`${publisher}.${type} is not in ${FIRST_PARTY_DIR}index.json: build it first`);
  }
  return { ...entry, dir: join(FIRST_PARTY_DIR, entry.dir) };
}

export async function makePublisherKey(cli: CliIdentity, dir: string): Promise<PublisherKey> {
  await runTetherAs(cli, ['extension', 'keygen', '--out', dir]);
  return { keyFile: join(dir, 'publisher.key'), publicKeyFile: join(dir, 'publisher.pub.pem') };
}

export async function publishPackage(
  cli: CliIdentity,
  key: PublisherKey,
  ref: PackageRef,
): Promise<void> {
  await runTetherAs(cli, [
    'extension',
    'publish',
    ...['--dir', ref.dir, '--publisher', ref.publisher, '--type', ref.type],
    ...['--version', ref.version, '--key', key.keyFile],
  ]);
}

/** Runs the `tether` CLI signed in through environment variables. */
export function runTetherAs(cli: CliIdentity, args: readonly string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: cli.configDir,
    TETHER_CONFIG_DIR: cli.configDir,
    AZURE_CLIENT_ID: cli.install.appId,
    AZURE_CLIENT_SECRET: cli.install.password,
    AZURE_TENANT_ID: cli.install.tenantId,
    AZURE_SUBSCRIPTION_ID: cli.install.subscriptionId,
    TETHER_ENDPOINT: cli.url,
    TETHER_CA_CERT: cli.install.caCert,
  };
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [TETHER_BIN, ...args],
      { env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null) {
          reject(
            new Error(`tether ${args.slice(0, 2).join(' ')} failed: ${stderr}`, { cause: error }),
          );
        } else resolve(stdout);
      },
    );
  });
}
