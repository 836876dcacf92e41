// The saved profile holds a secret: its file and directory modes, atomic writes, and clear
// errors for a profile that is unsafe or corrupt.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliError } from './cli-error.js';
import { ProfileStore, type Profile } from './profile-store.js';

const PROFILE: Profile = {
  endpoint: 'https://tether.test',
  tenantId: 'contoso',
  clientId: '33333333-3333-4333-8333-333333333333',
  clientSecret: 's3cret',
  subscriptionId: '22222222-2222-4222-8222-222222222222',
  token: { accessToken: 'jwt', expiresOn: 1_900_000_000_000 },
};

const posix = process.platform !== 'win32';

void describe('profile store', () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tether-profile-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  void it('lives in TETHER_CONFIG_DIR, else ~/.tether', () => {
    assert.equal(ProfileStore.locate({ TETHER_CONFIG_DIR: '/x/y' }, '/home/u').directory, '/x/y');
    assert.equal(ProfileStore.locate({}, '/home/u').directory, join('/home/u', '.tether'));
  });

  void it('has no profile before login', async () => {
    assert.equal(await new ProfileStore(join(root, 'none')).load(), undefined);
  });

  void it('writes the secret as 0600 in a fresh 0700 directory and reads it back', async () => {
    const store = new ProfileStore(join(root, 'a', 'nested'));
    await store.save(PROFILE);
    assert.deepEqual(await store.load(), PROFILE);
    if (posix) {
      assert.equal((await stat(store.directory)).mode & 0o777, 0o700);
      assert.equal((await stat(store.path)).mode & 0o777, 0o600);
    }
    await store.save({ ...PROFILE, subscriptionId: undefined });
    assert.deepEqual(await readdir(store.directory), ['profile.json'], 'no temporary files left');
  });

  void it('refuses a profile others can read, naming the fix', { skip: !posix }, async () => {
    const store = new ProfileStore(join(root, 'loose-file'));
    await store.save(PROFILE);
    await chmod(store.path, 0o644);
    await assert.rejects(
      store.load(),
      (error: unknown) =>
        error instanceof CliError &&
        error.code === 'ERR_PROFILE' &&
        error.message.includes(`chmod 600 ${store.path}`),
    );
  });

  void it('refuses to put a secret in a directory others can open', { skip: !posix }, async () => {
    const directory = join(root, 'loose-dir');
    await mkdir(directory, { mode: 0o755 });
    await chmod(directory, 0o755);
    const store = new ProfileStore(directory);
    await assert.rejects(store.save(PROFILE), /chmod 700/);
    assert.deepEqual(await readdir(directory), [], 'nothing written');
  });

  void it('explains a corrupt profile', async () => {
    const store = new ProfileStore(join(root, 'corrupt'));
    await store.save(PROFILE);
    await writeFile(store.path, '{"endpoint": 1}', { mode: 0o600 });
    await assert.rejects(store.load(), /not a valid profile \(no endpoint\); log in again/);
    await writeFile(store.path, 'not json', { mode: 0o600 });
    await assert.rejects(store.load(), /not a valid profile \(not JSON\)/);
  });

  void it('removes the profile on logout', async () => {
    const store = new ProfileStore(join(root, 'logout'));
    await store.save(PROFILE);
    assert.equal(await store.remove(), true);
    assert.equal(await store.remove(), false);
    assert.equal(await store.load(), undefined);
  });
});
