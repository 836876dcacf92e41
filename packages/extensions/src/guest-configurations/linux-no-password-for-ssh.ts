// "Authentication to Linux machines should require SSH keys": sshd refuses passwords.
import type { GuestConfiguration } from '@tether/protocol';
import { sshdKey } from './sshd-key.js';

export const LINUX_NO_PASSWORD_FOR_SSH: GuestConfiguration = {
  name: 'LinuxNoPasswordForSSH',
  version: '1.0.0',
  rules: [
    sshdKey(
      'PasswordAuthentication',
      'Ensure SSH password authentication is disabled',
      'PasswordAuthentication',
      { equals: 'no' },
      { default: 'yes' },
    ),
  ],
};
