// "Linux machines should not allow remote connections from accounts without passwords": sshd
// refuses empty passwords and no account has one.
import type { GuestConfiguration } from '@tether/protocol';
import { sshdKey } from './sshd-key.js';

export const PASSWORD_POLICY_MSID110: GuestConfiguration = {
  name: 'PasswordPolicy_msid110',
  version: '1.0.0',
  rules: [
    sshdKey(
      '110',
      'Ensure SSH PermitEmptyPasswords is disabled',
      'PermitEmptyPasswords',
      {
        equals: 'no',
      },
      { default: 'no' },
    ),
    {
      id: '23.2',
      title: 'Ensure all accounts have a password or are locked',
      kind: 'accounts',
      check: 'noEmptyPasswords',
    },
  ],
};
