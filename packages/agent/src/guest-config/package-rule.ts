// Judges a `package` rule from dpkg's status database (`var/lib/dpkg/status`). Pure.
import type { PackageRule } from '@tether/protocol';
import { compliant, nonCompliant, type RuleOutcome } from './rule-outcome.js';

/**
 * Names of the packages dpkg has installed: a stanza whose Status ends in `installed` (a removed
 * package that kept its config files is `config-files`, and does not count).
 */
export function installedPackages(status: string): Set<string> {
  const installed = new Set<string>();
  for (const stanza of status.split(/\n\s*\n/)) {
    const name = /^Package:\s*(\S+)/m.exec(stanza)?.[1];
    const state = /^Status:\s*\S+\s+\S+\s+(\S+)/m.exec(stanza)?.[1];
    if (name !== undefined && (state === 'installed' || state === 'half-configured')) {
      installed.add(name);
    }
  }
  return installed;
}

export function evaluatePackageRule(
  rule: PackageRule,
  installed: ReadonlySet<string> | undefined,
): RuleOutcome {
  if (installed === undefined) {
    return nonCompliant(
      'package.noDatabase',
      "dpkg's status database /var/lib/dpkg/status cannot be read, so installed packages cannot be checked",
    );
  }
  const present = rule.names.filter((n) => installed.has(n));
  if (rule.installed) {
    const missing = rule.names.filter((n) => !installed.has(n));
    return missing.length === 0
      ? compliant('package.installed', `${list(rule.names)} installed, as expected`)
      : nonCompliant('package.missing', `${list(missing)} not installed; expected installed`);
  }
  return present.length === 0
    ? compliant('package.absent', `none of ${rule.names.join(', ')} is installed, as expected`)
    : nonCompliant(
        'package.installed',
        `${list(present)} installed; expected none of ${rule.names.join(', ')}`,
      );
}

function list(names: readonly string[]): string {
  return names.length === 1 ? `package ${names[0]} is` : `packages ${names.join(', ')} are`;
}
