// How the machine key is protected (S17): the key file's owner and mode, and whether the disk
// it lives on is encrypted, since a copied key is the machine's identity.
import { expectedKeyOwner } from '../identity/himds-account.js';
import { keyFileProblem } from '../identity/key-file-check.js';
import { existsSync } from 'node:fs';
import type { CheckContext, CheckGroup, CheckResult } from './check.js';
import { rootDiskEncryption } from './root-disk-encryption.linux.js';

export const keyProtectionChecks: CheckGroup = {
  title: 'Machine key protection',
  run: (context) => [keyFileCheck(context), diskEncryptionCheck(context)],
};

function keyFileCheck({ paths }: CheckContext): CheckResult {
  const base = { id: 'key-file', title: 'Machine key readable only by himds' } as const;
  if (!existsSync(paths.agentState) && !existsSync(paths.machineKey)) {
    return {
      ...base,
      status: 'skip',
      detail: 'The machine is not connected; there is no key yet.',
    };
  }
  const owner = expectedKeyOwner(paths);
  const problem = keyFileProblem(paths.machineKey, owner);
  return problem === undefined
    ? {
        ...base,
        status: 'pass',
        detail: `${paths.machineKey} is owned by ${owner.name} with mode 0600.`,
      }
    : {
        ...base,
        status: 'fail',
        detail: `The machine key ${problem}; HIMDS refuses to start until it is fixed.`,
      };
}

function diskEncryptionCheck({ systemRoot }: CheckContext): CheckResult {
  const base = { id: 'disk-encryption', title: 'Root filesystem encrypted' } as const;
  const found = rootDiskEncryption(systemRoot);
  switch (found.state) {
    case 'encrypted':
      return {
        ...base,
        status: 'pass',
        detail: `/ is on ${found.device}, encrypted by dm-crypt (${found.via}).`,
      };
    case 'not-encrypted':
      return {
        ...base,
        status: 'warn',
        detail: `/ is on ${found.device}, which is not on dm-crypt/LUKS: anyone who gets a copy of the disk gets the machine key, which is this machine's identity. Encrypt the OS volume (LUKS).`,
      };
    case 'unknown':
      return { ...base, status: 'unknown', detail: `Unknown: ${found.reason}.` };
  }
}
