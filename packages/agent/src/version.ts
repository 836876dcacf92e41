// The agent's version, reported by `azcmagent version` and later in every heartbeat: the
// installed package's version when it runs from the azcmagent package (which writes it beside
// its programs), else the version of this source tree.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isDebianVersion } from '@tether/protocol/agent-upgrade';

export const AGENT_VERSION = '0.1.0';

/** Written by the package build into its program folder (`/usr/lib/azcmagent/package-version`). */
export const PACKAGE_VERSION_FILE = 'package-version';

/**
 * The azcmagent package this process runs from, or undefined from a checkout. The package
 * starts every program as `<program folder>/bin/azcmagent.cjs`.
 */
export function installedPackage(
  entry: string | undefined = process.argv[1],
): { programDir: string; version: string } | undefined {
  if (entry === undefined || entry === '') return undefined;
  const programDir = dirname(dirname(entry));
  let text: string;
  try {
    text = readFileSync(join(programDir, PACKAGE_VERSION_FILE), 'utf8').trim();
  } catch {
    return undefined;
  }
  return isDebianVersion(text) ? { programDir, version: text } : undefined;
}

let cached: string | undefined;

/** What this agent reports as its version. */
export function agentVersion(): string {
  cached ??= installedPackage()?.version ?? AGENT_VERSION;
  return cached;
}
