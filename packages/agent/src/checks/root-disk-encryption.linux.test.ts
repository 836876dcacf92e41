// Root filesystem encryption from fake /proc/mounts and /sys/block trees: LUKS directly and
// under LVM, plain disks and LVM without crypt, and the cases it cannot tell.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { rootDiskEncryption } from './root-disk-encryption.linux.js';

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

interface Dm {
  name: string;
  uuid?: string;
  slaves?: string[];
}

function fakeSystem(rootDevice: string | undefined, dms: Record<string, Dm> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'agent-disk-'));
  roots.push(root);
  mkdirSync(join(root, 'proc'));
  const lines = ['sysfs /sys sysfs rw 0 0', 'proc /proc proc rw 0 0'];
  if (rootDevice !== undefined) lines.unshift(`${rootDevice} / ext4 rw,relatime 0 0`);
  writeFileSync(join(root, 'proc/mounts'), `${lines.join('\n')}\n`);
  for (const [dm, spec] of Object.entries(dms)) {
    const dir = join(root, 'sys/block', dm);
    mkdirSync(join(dir, 'dm'), { recursive: true });
    mkdirSync(join(dir, 'slaves'));
    writeFileSync(join(dir, 'dm/name'), `${spec.name}\n`);
    if (spec.uuid !== undefined) writeFileSync(join(dir, 'dm/uuid'), `${spec.uuid}\n`);
    for (const slave of spec.slaves ?? []) mkdirSync(join(dir, 'slaves', slave));
  }
  return root;
}

void describe('rootDiskEncryption', () => {
  void test('LUKS directly under /', () => {
    const root = fakeSystem('/dev/mapper/luks-root', {
      'dm-0': { name: 'luks-root', uuid: 'CRYPT-LUKS2-0123abcd-luks-root' },
    });
    assert.deepEqual(rootDiskEncryption(root), {
      state: 'encrypted',
      device: '/dev/mapper/luks-root',
      via: 'dm-0',
    });
  });

  void test('LVM on LUKS, found through the slaves', () => {
    const root = fakeSystem('/dev/mapper/vg-root', {
      'dm-0': { name: 'sda3_crypt', uuid: 'CRYPT-LUKS2-feed-sda3_crypt' },
      'dm-1': { name: 'vg-root', uuid: 'LVM-abc', slaves: ['dm-0'] },
    });
    assert.equal(rootDiskEncryption(root).state, 'encrypted');
  });

  void test('/dev/dm-N names are followed too', () => {
    const root = fakeSystem('/dev/dm-1', {
      'dm-0': { name: 'c', uuid: 'CRYPT-PLAIN-c' },
      'dm-1': { name: 'vg-root', uuid: 'LVM-abc', slaves: ['dm-0'] },
    });
    assert.equal(rootDiskEncryption(root).state, 'encrypted');
  });

  void test('a plain partition or LVM without crypt is not encrypted', () => {
    assert.deepEqual(rootDiskEncryption(fakeSystem('/dev/sda1')), {
      state: 'not-encrypted',
      device: '/dev/sda1',
    });
    assert.equal(rootDiskEncryption(fakeSystem('/dev/nvme0n1p2')).state, 'not-encrypted');
    const lvm = fakeSystem('/dev/mapper/vg-root', {
      'dm-0': { name: 'vg-root', uuid: 'LVM-abc' },
    });
    assert.equal(rootDiskEncryption(lvm).state, 'not-encrypted');
  });

  void test('unknown when it cannot tell', () => {
    const overlay = rootDiskEncryption(fakeSystem('overlay'));
    assert.equal(overlay.state, 'unknown');
    assert.match(overlay.state === 'unknown' ? overlay.reason : '', /"overlay"/);
    assert.equal(rootDiskEncryption(fakeSystem(undefined)).state, 'unknown');
    const noUuid = fakeSystem('/dev/mapper/vg-root', { 'dm-0': { name: 'vg-root' } });
    assert.equal(rootDiskEncryption(noUuid).state, 'unknown');
    const nothing = mkdtempSync(join(tmpdir(), 'agent-disk-'));
    roots.push(nothing);
    assert.match(JSON.stringify(rootDiskEncryption(nothing)), /proc\/mounts cannot be read/);
  });
});
