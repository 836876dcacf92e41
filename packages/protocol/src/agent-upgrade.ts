// Agent upgrades: what the control plane hands an agent in its goal state, what the agent
// reports back, and Debian's version order, which both sides use to tell an upgrade from a
// downgrade exactly as dpkg would.

/** The goal state's `agentUpgrade`: the package the machine's agent should run. */
export interface AgentUpgradeGoal {
  /** The Debian version of the azcmagent package to install. */
  readonly version: string;
  /** Lower-case hex SHA-256 of the package's bytes, as published. */
  readonly sha256: string;
  readonly size: number;
  /**
   * The publisher's signature (a compact JWS of typ `tether-agent-package+jws`), which the
   * machine verifies with the keys its administrator trusts for agent packages.
   */
  readonly signature: string;
  /** Path of the package's bytes on the control plane, below its URL. */
  readonly downloadPath: string;
  /** Names this request; a new request for the same version has a new one. */
  readonly correlationId: string;
}

export type AgentUpgradeStatus = 'Success' | 'Failed';

/** `POST …/machines/{m}/agentUpgradeReport`: how the agent's last attempt ended. */
export interface AgentUpgradeReport {
  readonly desiredVersion: string;
  readonly correlationId: string;
  readonly status: AgentUpgradeStatus;
  readonly message: string;
  /** ISO 8601, when the attempt ended on the machine. */
  readonly timestamp: string;
}

/** Debian's syntax: `[epoch:]upstream[-revision]`, as `dpkg` accepts it. */
const DEBIAN_VERSION = /^(?:(\d{1,9}):)?([0-9][A-Za-z0-9.+~-]*)$/;

export function isDebianVersion(text: string): boolean {
  return text.length <= 128 && DEBIAN_VERSION.test(text) && !text.endsWith('-');
}

/** Negative, zero or positive as `a` is older than, the same as or newer than `b` (dpkg's order). */
export function compareDebianVersions(a: string, b: string): number {
  const left = split(a);
  const right = split(b);
  if (left.epoch !== right.epoch) return left.epoch - right.epoch;
  return (
    compareFragment(left.upstream, right.upstream) || compareFragment(left.revision, right.revision)
  );
}

function split(version: string): { epoch: number; upstream: string; revision: string } {
  const match = DEBIAN_VERSION.exec(version);
  if (match === null || !isDebianVersion(version)) {
    throw new Error(`'${version}' is not a Debian version`);
  }
  const rest = match[2] ?? '';
  // The revision is what follows the last hyphen; the upstream version may hold hyphens.
  const hyphen = rest.lastIndexOf('-');
  return {
    epoch: Number(match[1] ?? 0),
    upstream: hyphen < 0 ? rest : rest.slice(0, hyphen),
    revision: hyphen < 0 ? '' : rest.slice(hyphen + 1),
  };
}

/** Letters sort before non-letters, and `~` before everything, even the end of the string. */
function characterOrder(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function compareFragment(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    // The non-digit parts, character by character.
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const left = isDigit(a[i]) ? 0 : characterOrder(a[i]);
      const right = isDigit(b[j]) ? 0 : characterOrder(b[j]);
      if (left !== right) return left - right;
      i += 1;
      j += 1;
    }
    // Then the digit parts, as numbers.
    let left = '';
    let right = '';
    while (i < a.length && isDigit(a[i])) left += a[i++];
    while (j < b.length && isDigit(b[j])) right += b[j++];
    const difference = compareNumbers(left, right);
    if (difference !== 0) return difference;
  }
  return 0;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function compareNumbers(a: string, b: string): number {
  const left = a.replace(/^0+/, '');
  const right = b.replace(/^0+/, '');
  if (left.length !== right.length) return left.length - right.length;
  return left < right ? -1 : left > right ? 1 : 0;
}
