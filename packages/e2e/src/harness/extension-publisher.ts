// Signed extension packages for an end-to-end test, made the way a publisher makes them: a key
// from `tether extension keygen`, packages uploaded with `tether extension publish`, and the
// first-party handlers built in packages/extensions.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TETHER_BIN } from './programs.js';
import type { ControlPlane } from './start-control-plane.js';

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

/** packages/extensions/dist/packages, from packages/e2e/dist/harness/. */
export const FIRST_PARTY_DIR = fileURLToPath(
  new URL('../../../extensions/dist/packages/', import.meta.url),
);

export function firstPartyPackages(): PackageRef[] {
  const index = JSON.parse(readFileSync(join(FIRST_PARTY_DIR, 'index.json'), 'utf8')) as {
    publisher: string;
    type: string;
    version: string;
    dir: string;
  }[];
  return index.map((entry) => ({ ...entry, dir: join(FIRST_PARTY_DIR, entry.dir) }));
}

export async function makePublisherKey(plane: ControlPlane, dir: string): Promise<PublisherKey> {
  await runTetherAs(plane, ['extension', 'keygen', '--out', dir]);
  return { keyFile: join(dir, 'publisher.key'), publicKeyFile: join(dir, 'publisher.pub.pem') };
}

export async function publishPackage(
  plane: ControlPlane,
  key: PublisherKey,
  ref: PackageRef,
): Promise<void> {
  await runTetherAs(plane, [
    'extension',
    'publish',
    '--dir',
    ref.dir,
    '--publisher',
    ref.publisher,
    '--type',
    ref.type,
    '--version',
    ref.version,
    '--key',
    key.keyFile,
  ]);
}

/** Runs the `tether` CLI signed in, through environment variables, as the bootstrap Owner. */
export function runTetherAs(plane: ControlPlane, args: readonly string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: plane.dataDir,
    TETHER_CONFIG_DIR: join(plane.dataDir, 'cli'),
    AZURE_CLIENT_ID: plane.appId,
    AZURE_CLIENT_SECRET: plane.password,
    AZURE_TENANT_ID: plane.tenantId,
    AZURE_SUBSCRIPTION_ID: plane.subscriptionId,
    TETHER_ENDPOINT: plane.url,
    TETHER_CA_CERT: plane.caCert,
  };
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [TETHER_BIN, ...args],
      { env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null) {
          reject(new Error(`tether ${args.join(' ')} failed: ${stderr}`, { cause: error }));
        } else resolve(stdout);
      },
    );
  });
}
