// Key-encryption key files: made with mode 0600 and never overwritten; a file others can read,
// one that does not hold exactly 256 bits, or a value wrapped with another key is refused.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isTetherError } from '@tether/protocol';
import {
  createKeyEncryptionKeyFile,
  readKeyEncryptionKeyFile,
  unwrapWithKek,
  wrapWithKek,
} from './key-encryption-keys.js';

const refused = (pattern: RegExp) => (error: unknown) =>
  isTetherError(error) && error.code === 'ERR_KEY_ENCRYPTION_KEY' && pattern.test(error.message);

void describe('key-encryption key files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tether-kek-unit-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it('makes a 0600 file that reads back as the same key, and never overwrites one', async () => {
    const file = join(dir, 'made.key');
    const made = await createKeyEncryptionKeyFile(file);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const read = await readKeyEncryptionKeyFile(file);
    assert.equal(read.id, made.id);
    assert.deepEqual(read.secret, made.secret);
    await assert.rejects(createKeyEncryptionKeyFile(file), refused(/already exists/));
  });

  void it('accepts base64 and base64url of 32 bytes, and refuses anything else by name', async () => {
    const bytes = Buffer.alloc(32, 0xfb);
    const plain = join(dir, 'plain.key');
    const url = join(dir, 'url.key');
    await writeFile(plain, `${bytes.toString('base64')}\n`, { mode: 0o600 });
    await writeFile(url, bytes.toString('base64url'), { mode: 0o600 });
    assert.equal(
      (await readKeyEncryptionKeyFile(plain)).id,
      (await readKeyEncryptionKeyFile(url)).id,
    );

    for (const [name, text] of [
      ['short.key', Buffer.alloc(16).toString('base64')],
      ['long.key', Buffer.alloc(33).toString('base64')],
      ['hex.key', Buffer.alloc(32).toString('hex')],
      ['empty.key', ''],
    ] as const) {
      const file = join(dir, name);
      await writeFile(file, text, { mode: 0o600 });
      await assert.rejects(readKeyEncryptionKeyFile(file), refused(/does not hold a 256-bit key/));
    }
    await chmod(plain, 0o640);
    await assert.rejects(
      readKeyEncryptionKeyFile(plain),
      refused(/readable by other users \(mode 640\): .*chmod 600/),
    );
    await assert.rejects(
      readKeyEncryptionKeyFile(join(dir, 'absent.key')),
      refused(/absent\.key cannot be read \(ENOENT\)/),
    );
  });

  void it('opens what it wrapped only with the same key', async () => {
    const one = await createKeyEncryptionKeyFile(join(dir, 'one.key'));
    const two = await createKeyEncryptionKeyFile(join(dir, 'two.key'));
    const wrapped = await wrapWithKek(one, 'private part');
    assert.ok(!wrapped.includes('private part'));
    assert.equal(await unwrapWithKek(one, wrapped), 'private part');
    await assert.rejects(unwrapWithKek(two, wrapped), refused(/does not open with .*two\.key/));
    const [header, key, iv, ciphertext, tag] = wrapped.split('.');
    const first = (ciphertext ?? '').startsWith('A') ? 'B' : 'A';
    const changed = [header, key, iv, `${first}${(ciphertext ?? '').slice(1)}`, tag].join('.');
    await assert.rejects(unwrapWithKek(one, changed), refused(/does not open/));
  });
});
