// Whether the root filesystem sits on dm-crypt (S17: a stolen disk must not give away the
// machine key), read from /proc/mounts and /sys/block/dm-*/dm/uuid (CRYPT-…), following slaves.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export type DiskEncryption =
  | { readonly state: 'encrypted'; readonly device: string; readonly via: string }
  | { readonly state: 'not-encrypted'; readonly device: string }
  | { readonly state: 'unknown'; readonly reason: string };

/** `root` is the prefix of /proc and /sys: `/` on a server, a folder in tests. */
export function rootDiskEncryption(root: string): DiskEncryption {
  let mounts: string;
  try {
    mounts = readFileSync(join(root, 'proc/mounts'), 'utf8');
  } catch {
    return { state: 'unknown', reason: `${join(root, 'proc/mounts')} cannot be read` };
  }
  // The last mount on / is the one in force (earlier ones are hidden by it).
  let device: string | undefined;
  for (const line of mounts.split('\n')) {
    const fields = line.split(' ');
    if (fields[1] === '/' && fields[0] !== undefined) device = unescapeMount(fields[0]);
  }
  if (device === undefined) return { state: 'unknown', reason: 'no filesystem is mounted on /' };
  const sys = join(root, 'sys/block');
  const dm = dmName(device, sys);
  if (dm === undefined) {
    if (/^\/dev\/(sd|vd|xvd|hd|nvme|mmcblk)[a-z0-9]+$/.test(device)) {
      return { state: 'not-encrypted', device };
    }
    return {
      state: 'unknown',
      reason: `the root filesystem is on "${device}", not a block device this check understands`,
    };
  }
  const crypt = findCrypt(sys, dm, new Set());
  if (crypt.kind === 'unreadable') {
    return { state: 'unknown', reason: `${join(sys, crypt.dm, 'dm/uuid')} cannot be read` };
  }
  return crypt.kind === 'none'
    ? { state: 'not-encrypted', device }
    : { state: 'encrypted', device, via: crypt.dm };
}

/** /proc/mounts escapes spaces and the like as \ooo octal. */
function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(parseInt(octal, 8)),
  );
}

/** dm-N for /dev/dm-N or /dev/mapper/NAME (looked up in dm/name), else undefined. */
function dmName(device: string, sys: string): string | undefined {
  if (/^\/dev\/dm-\d+$/.test(device)) return basename(device);
  if (!device.startsWith('/dev/mapper/')) return undefined;
  const name = basename(device);
  let entries: string[];
  try {
    entries = readdirSync(sys).filter((entry) => /^dm-\d+$/.test(entry));
  } catch {
    return undefined;
  }
  return entries.find((entry) => {
    try {
      return readFileSync(join(sys, entry, 'dm/name'), 'utf8').trim() === name;
    } catch {
      return false;
    }
  });
}

type CryptSearch =
  | { readonly kind: 'crypt'; readonly dm: string }
  | { readonly kind: 'none' }
  | { readonly kind: 'unreadable'; readonly dm: string };

/** The crypt device under `dm`: itself or one found through its slaves. */
function findCrypt(sys: string, dm: string, seen: Set<string>): CryptSearch {
  if (seen.has(dm)) return { kind: 'none' };
  seen.add(dm);
  let uuid: string;
  try {
    uuid = readFileSync(join(sys, dm, 'dm/uuid'), 'utf8').trim();
  } catch {
    return { kind: 'unreadable', dm };
  }
  if (uuid.startsWith('CRYPT-')) return { kind: 'crypt', dm };
  let slaves: string[];
  try {
    slaves = readdirSync(join(sys, dm, 'slaves'));
  } catch {
    slaves = [];
  }
  for (const slave of slaves.filter((s) => /^dm-\d+$/.test(s))) {
    const found = findCrypt(sys, slave, seen);
    if (found.kind !== 'none') return found;
  }
  return { kind: 'none' };
}
