// What installing the packages may change on a machine, listed so a test can prove the
// machine is as before once the package is purged: accounts, the agent's folders and the units.
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

const WATCHED = [
  '/opt/azcmagent',
  '/usr/lib/azcmagent',
  '/var/opt/azcmagent',
  '/var/lib/GuestConfig',
  '/var/lib/waagent',
  '/usr/bin/azcmagent',
  '/etc/profile.d/azcmagent.sh',
  '/etc/systemd/system',
  '/lib/systemd/system/himdsd.service',
  '/lib/systemd/system/extd.service',
  '/lib/systemd/system/gcad.service',
  '/lib/systemd/system.conf.d/azcmagent.conf',
  '/usr/lib/environment.d/90-azcmagent.conf',
  '/usr/lib/tether',
  '/usr/bin/tether',
  '/etc/tether',
  '/var/lib/tether',
  '/lib/systemd/system/tether.service',
  '/var/lib/systemd/deb-systemd-helper-enabled',
  '/var/lib/systemd/deb-systemd-helper-masked',
];

function describePath(path: string): string[] {
  if (!existsSync(path) && !isLink(path)) return [];
  const stats = lstatSync(path);
  const self = stats.isSymbolicLink()
    ? `${path} -> ${readlinkSync(path)}`
    : `${path} ${(stats.mode & 0o7777).toString(8)} ${stats.uid}:${stats.gid}`;
  if (!stats.isDirectory()) return [self];
  return [self, ...readdirSync(path).flatMap((name) => describePath(join(path, name)))];
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function accountNames(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => `${file}: ${line.split(':')[0] ?? ''}`);
}

export function machineSnapshot(): string[] {
  return [
    ...accountNames('/etc/passwd'),
    ...accountNames('/etc/group'),
    ...WATCHED.flatMap(describePath),
  ].sort();
}
