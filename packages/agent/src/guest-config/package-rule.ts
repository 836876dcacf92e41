// Judges a `package` rule from dpkg's status database (`var/lib/dpkg/status`). Pure.
import type { PackageRule } from '@tether/protocol';
import { compliant, nonCompliant, type RuleOutcome } from './rule-outcome.js';

/**
 * Which of `names` dpkg has installed: the stanza's Status ends in `installed` (a removed package
 * that kept its config files is `config-files`, and does not count). Looks each name up with
 * indexOf rather than parsing every stanza: the database is large, the question small.
 */
export function installedAmong(status: string, names: readonly string[]): Set<string> {
  const installed = new Set<string>();
  for (const name of names) {
    let at = status.startsWith(`Package: ${name}\n`) ? 0 : -1;
    let from = 0;
    while (at === -1 && from < status.length) {
      const hit = status.indexOf(`\nPackage: ${name}\n`, from);
      if (hit === -1) break;
      at = hit + 1;
      from = hit + 1;
    }
    if (at === -1) continue;
    const end = status.indexOf('\n\n', at);
    const stanza = status.slice(at, end === -1 ? undefined : end);
    if (/^Status:.*\s(?:installed|half-configured)\s*$/m.test(stanza)) installed.add(name);
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
