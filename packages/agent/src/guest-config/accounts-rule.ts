// Judges an `accounts` rule from etc/passwd, etc/shadow and etc/login.defs. Pure.
import type { AccountsRule } from '@tether/protocol';
import { findConfigValue } from './config-file-value.js';
import type { FileText } from './rule-facts.js';
import { compliant, nonCompliant, type RuleOutcome } from './rule-outcome.js';

interface AccountFiles {
  readonly passwd: FileText;
  readonly shadow: FileText;
  readonly loginDefs: FileText;
}

/** `[name, second field, third field]` of each entry of a colon-separated account file. */
function entries(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => line.split(':'));
}

export function evaluateAccountsRule(rule: AccountsRule, files: AccountFiles): RuleOutcome {
  switch (rule.check) {
    case 'onlyRootUid0': {
      if (files.passwd === undefined) return unreadable('/etc/passwd');
      const uid0 = entries(files.passwd)
        .filter((e) => e[2]?.trim() === '0')
        .map((e) => e[0] ?? '');
      const others = uid0.filter((name) => name !== 'root');
      if (others.length > 0) {
        return nonCompliant(
          'accounts.uid0',
          `${names(others)} uid 0 in /etc/passwd; expected only root`,
        );
      }
      return uid0.includes('root')
        ? compliant('accounts.uid0', 'only root has uid 0 in /etc/passwd, as expected')
        : nonCompliant('accounts.uid0', 'no account has uid 0 in /etc/passwd; expected root');
    }
    case 'noEmptyPasswords': {
      if (files.passwd === undefined) return unreadable('/etc/passwd');
      if (files.shadow === undefined) return unreadable('/etc/shadow');
      // An empty field in either file lets the account in without a password.
      const empty = new Set(
        [...entries(files.passwd), ...entries(files.shadow)]
          .filter((e) => e.length > 1 && e[1] === '')
          .map((e) => e[0] ?? ''),
      );
      return empty.size === 0
        ? compliant(
            'accounts.emptyPassword',
            'no account has an empty password in /etc/passwd or /etc/shadow, as expected',
          )
        : nonCompliant(
            'accounts.emptyPassword',
            `${names([...empty])} an empty password; expected every account to have a password or be locked`,
          );
    }
    case 'passwordHashSha512': {
      if (files.loginDefs === undefined) return unreadable('/etc/login.defs');
      const lines = files.loginDefs
        .split('\n')
        .map((text, i) => ({ file: '/etc/login.defs', line: i + 1, text }));
      const found = findConfigValue('loginDefs', lines, 'ENCRYPT_METHOD');
      if (found === undefined) {
        return nonCompliant(
          'accounts.hash',
          'ENCRYPT_METHOD is not set in /etc/login.defs, so passwords are hashed with DES; expected SHA512',
        );
      }
      return found.value.toUpperCase() === 'SHA512'
        ? compliant('accounts.hash', 'ENCRYPT_METHOD is SHA512 in /etc/login.defs, as expected')
        : nonCompliant(
            'accounts.hash',
            `ENCRYPT_METHOD is "${found.value}" in /etc/login.defs line ${found.at.line}; expected SHA512`,
          );
    }
  }
}

function names(list: readonly string[]): string {
  return list.length === 1 ? `account ${list[0]} has` : `accounts ${list.join(', ')} have`;
}

function unreadable(path: string): RuleOutcome {
  return nonCompliant(
    'accounts.unreadable',
    `${path} cannot be read, so accounts cannot be checked`,
  );
}
