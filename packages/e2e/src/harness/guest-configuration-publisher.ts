// Signed guest configuration packages for an end-to-end test, made as a publisher makes them: the
// built-in configuration's folder zipped, signed with the publisher key as a guest configuration
// package (not an extension package), and uploaded to the control plane's package repository.
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildZip } from '@tether/agent/extensions/host/testing/test-fixtures';
import { CONFIGURATION_FILE, GUEST_CONFIGURATION_SIGNATURE_TYPE } from '@tether/protocol';
import { signPackage } from '@tether/protocol/extension-package';
import type { PublisherKey } from './extension-publisher.js';
import type { ControlPlane } from './start-control-plane.js';

export interface GuestConfigurationRef {
  readonly name: string;
  readonly version: string;
  readonly dir: string;
}

/** packages/extensions/dist/guest-configurations-packages, from packages/e2e/dist/harness/. */
export const BUILT_IN_CONFIGURATIONS_DIR = fileURLToPath(
  new URL('../../../extensions/dist/guest-configurations-packages/', import.meta.url),
);

export function builtInConfigurations(): GuestConfigurationRef[] {
  const index = JSON.parse(
    readFileSync(join(BUILT_IN_CONFIGURATIONS_DIR, 'index.json'), 'utf8'),
  ) as GuestConfigurationRef[];
  return index.map((entry) => ({ ...entry, dir: join(BUILT_IN_CONFIGURATIONS_DIR, entry.dir) }));
}

/** Zips, signs and uploads one configuration; the package's type is the configuration's name. */
export async function publishGuestConfiguration(
  plane: ControlPlane,
  key: PublisherKey,
  publisher: string,
  ref: GuestConfigurationRef,
): Promise<void> {
  const zip = await buildZip([
    {
      name: CONFIGURATION_FILE,
      content: readFileSync(join(ref.dir, CONFIGURATION_FILE), 'utf8'),
    },
  ]);
  const identity = { publisher, type: ref.name, version: ref.version };
  const signature = await signPackage(
    createPrivateKey(readFileSync(key.keyFile)),
    identity,
    zip,
    GUEST_CONFIGURATION_SIGNATURE_TYPE,
  );
  const answer = await plane.admin.call(
    'PUT',
    `/providers/Tether.Extensions/publishers/${publisher}/types/${ref.name}/versions/${ref.version}?api-version=2024-07-10`,
    { body: { package: zip.toString('base64'), signature } },
  );
  if (answer.status !== 201 && answer.status !== 200) {
    throw new Error(`publishing ${ref.name} ${ref.version}: ${JSON.stringify(answer.body)}`);
  }
}
