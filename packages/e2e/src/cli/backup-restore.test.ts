// `tether backup` and `tether restore` on a real server under writes: the backup is taken
// online while resource groups are being created, is verified and holds no key-encryption key;
// restore refuses a running server's data directory and a damaged file, and after a restore
// the server serves exactly what was acknowledged before the backup began, and nothing written
// after it ended.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, open, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startControlPlane, type ControlPlane } from '../harness/index.js';
import { TETHER_BIN } from '../harness/programs.js';

function tether(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TETHER_BIN, ...args],
      { timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        });
      },
    );
  });
}

void describe('tether backup and restore', () => {
  let plane: ControlPlane;
  before(async () => {
    plane = await startControlPlane();
  });
  after(() => plane.stop());

  const groupPath = (name: string) =>
    `/subscriptions/${plane.subscriptionId}/resourcegroups/${name}?api-version=2021-04-01`;

  void it('backs up online under writes, refuses what it must, and restores what was acknowledged', async () => {
    const backupFile = join(plane.dataDir, '..', 'tether-backup.db');
    // Resource groups created one after another until told to stop; each name is recorded once
    // its creation is acknowledged, with the phase of the backup it was sent in.
    type Phase = 'before' | 'during' | 'after';
    const backup: { phase: Phase } = { phase: 'before' };
    let stopWriting = false;
    const acknowledged: { name: string; sent: Phase }[] = [];
    const writer = (async () => {
      for (let n = 0; !stopWriting; n++) {
        const sent = backup.phase;
        const name = `g-${n}`;
        const answer = await plane.admin.call('PUT', groupPath(name), {
          body: { location: 'westeurope' },
        });
        assert.equal(answer.status, 201, JSON.stringify(answer.body));
        acknowledged.push({ name, sent });
      }
    })();
    while (acknowledged.length < 20) await new Promise((r) => setTimeout(r, 20));

    backup.phase = 'during';
    const during = acknowledged.length;
    const taken = await tether(['backup', '--data-dir', plane.dataDir, '--out', backupFile]);
    backup.phase = 'after';
    const afterBackup = acknowledged.length;
    while (acknowledged.length < afterBackup + 10) await new Promise((r) => setTimeout(r, 20));
    stopWriting = true;
    await writer;

    assert.equal(taken.code, 0, taken.stderr);
    assert.ok(afterBackup > during, 'writes were acknowledged while the backup was taken');
    assert.match(
      taken.stdout,
      /^Backed up tenant \S+ \(\d+ bytes, schema \S+\) to .*tether-backup\.db,\nonline, from the running server; SQLite's integrity check passed\.\nThe key-encryption key \(\S+\) is not in the backup/,
    );
    assert.equal((await stat(backupFile)).mode & 0o777, 0o600);
    const leftovers = (await readdir(plane.dataDir)).filter((f) => f.startsWith('backup-'));
    assert.deepEqual(leftovers, [], 'the server keeps no copy');
    const kek = await readFile(join(plane.dataDir, 'key-encryption.key'), 'utf8');
    const image = await readFile(backupFile);
    assert.ok(!image.includes(kek.trim()), 'the key file is not in the backup');
    assert.ok(!image.includes(Buffer.from(kek.trim(), 'base64')), 'nor its bytes');

    const again = await tether(['backup', '--data-dir', plane.dataDir, '--out', backupFile]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists: a backup never replaces a file/);

    const busy = await tether(['restore', '--data-dir', plane.dataDir, '--from', backupFile]);
    assert.equal(busy.code, 1);
    assert.match(
      busy.stderr,
      /a tether server is running on .*: stop it before restoring; nothing was changed/,
    );

    // Damaged copies: cut short, and pages overwritten (SQLite keeps no checksums, so the
    // damage must reach pages in use; the first half of the file after its first page is).
    const cut = `${backupFile}.cut`;
    await copyFile(backupFile, cut);
    await truncate(cut, Math.floor(image.length / 2));
    const scribbled = `${backupFile}.scribbled`;
    await copyFile(backupFile, scribbled);
    const handle = await open(scribbled, 'r+');
    const pages = Buffer.alloc(Math.floor(image.length / 2) - 4096, 0x5a);
    await handle.write(pages, 0, pages.length, 4096);
    await handle.close();
    const text = `${backupFile}.txt`;
    await writeFile(text, 'not a database\n');

    await plane.restart(async () => {
      const offline = await tether([
        'backup',
        '--data-dir',
        plane.dataDir,
        '--out',
        `${backupFile}.offline`,
      ]);
      assert.equal(offline.code, 0, offline.stderr);
      assert.match(
        offline.stdout,
        /from the stopped installation; SQLite's integrity check passed/,
      );
      for (const damaged of [cut, scribbled, text]) {
        const refused = await tether(['restore', '--data-dir', plane.dataDir, '--from', damaged]);
        assert.equal(refused.code, 1, damaged);
        assert.match(refused.stderr, /is not a usable Tether backup: .*; nothing was changed/);
      }
      const restored = await tether(['restore', '--data-dir', plane.dataDir, '--from', backupFile]);
      assert.equal(restored.code, 0, restored.stderr);
      assert.match(
        restored.stdout,
        /^Restored tenant \S+ \(schema \S+\) from .* into .*tether\.db\.\nThe database it replaced is kept as .*tether\.db\.before-restore-/,
      );
      assert.doesNotMatch(restored.stdout, /start the server with that key's file/);
    });

    const exists = async (name: string) => (await plane.admin.call('GET', groupPath(name))).status;
    for (const { name, sent } of acknowledged) {
      if (sent === 'before')
        assert.equal(await exists(name), 200, `${name} was acknowledged before the backup`);
      if (sent === 'after')
        assert.equal(await exists(name), 404, `${name} was written after the backup`);
    }
  });
});
