// The guest configurations this workspace builds into ready-to-sign packages
// (scripts/build-packages.mjs writes each as dist/guest-configurations/<name>/configuration.json).
import type { GuestConfiguration } from '@tether/protocol';
import { AZURE_LINUX_BASELINE } from './azure-linux-baseline.js';
import { LINUX_NO_PASSWORD_FOR_SSH } from './linux-no-password-for-ssh.js';
import { PASSWORD_POLICY_MSID110 } from './password-policy-msid110.js';

export const BUILT_IN_CONFIGURATIONS: readonly GuestConfiguration[] = [
  AZURE_LINUX_BASELINE,
  LINUX_NO_PASSWORD_FOR_SSH,
  PASSWORD_POLICY_MSID110,
];
