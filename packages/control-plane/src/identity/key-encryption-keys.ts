// Key-encryption keys: 256-bit keys kept in files outside the database (one file given to
// every node) that wrap the private halves of the token signing keys at rest, as JWE with
// `dir` + A256GCM. A key's id is its JWK thumbprint, recorded beside each wrapped key.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { base64url, calculateJwkThumbprint, compactDecrypt, CompactEncrypt } from 'jose';
import { IdentityError } from './identity-error.js';

const KEY_BYTES = 32;
const ALG = 'dir';
const ENC = 'A256GCM';

export interface KeyEncryptionKey {
  /** JWK thumbprint (SHA-256) of the key: names it without revealing it. */
  readonly id: string;
  /** The file it was read from, for messages. */
  readonly file: string;
  readonly secret: Uint8Array;
}

/** The keys a node holds: one while it runs, two while a rotation is rolled out. */
export class KeyEncryptionKeys {
  private constructor(readonly keys: readonly KeyEncryptionKey[]) {}

  static none(): KeyEncryptionKeys {
    return new KeyEncryptionKeys([]);
  }

  static of(keys: readonly KeyEncryptionKey[]): KeyEncryptionKeys {
    return new KeyEncryptionKeys(keys);
  }

  /** Reads each file; a missing, unsafe or malformed file is refused by name. */
  static async load(files: readonly string[]): Promise<KeyEncryptionKeys> {
    const keys: KeyEncryptionKey[] = [];
    for (const file of files) {
      const key = await readKeyEncryptionKeyFile(file);
      if (!keys.some((k) => k.id === key.id)) keys.push(key);
    }
    return new KeyEncryptionKeys(keys);
  }

  get isEmpty(): boolean {
    return this.keys.length === 0;
  }

  get(id: string): KeyEncryptionKey | undefined {
    return this.keys.find((k) => k.id === id);
  }

  /** The ids held, for messages. */
  describe(): string {
    return this.keys.map((k) => `${k.id} (${k.file})`).join(', ');
  }
}

/** Wraps `plaintext` with `kek`: a compact JWE naming the key in its protected header. */
export async function wrapWithKek(kek: KeyEncryptionKey, plaintext: string): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({ alg: ALG, enc: ENC, kid: kek.id })
    .encrypt(kek.secret);
}

/** Opens a value `wrapWithKek` made; a wrong key or a changed value is refused. */
export async function unwrapWithKek(kek: KeyEncryptionKey, jwe: string): Promise<string> {
  try {
    const { plaintext } = await compactDecrypt(jwe, kek.secret, {
      keyManagementAlgorithms: [ALG],
      contentEncryptionAlgorithms: [ENC],
    });
    return new TextDecoder().decode(plaintext);
  } catch (error) {
    throw new IdentityError(
      'ERR_KEY_ENCRYPTION_KEY',
      `a signing key wrapped with key-encryption key ${kek.id} does not open with ${kek.file}: the file or the database was changed`,
      { cause: error },
    );
  }
}

/**
 * Reads a key file: one line, the base64 (or base64url) of 32 random bytes, readable by its
 * owner only — `head -c 32 /dev/urandom | base64 > FILE` makes one.
 */
export async function readKeyEncryptionKeyFile(file: string): Promise<KeyEncryptionKey> {
  const path = resolve(file);
  let mode: number;
  let text: string;
  try {
    mode = (await stat(path)).mode;
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new IdentityError(
      'ERR_KEY_ENCRYPTION_KEY',
      `the key-encryption key file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}): give the file made for this installation`,
      { cause: error },
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new IdentityError(
      'ERR_KEY_ENCRYPTION_KEY',
      `the key-encryption key file ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}): make it readable by its owner only (chmod 600)`,
    );
  }
  const encoded = text.trim();
  const secret = /^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)
    ? Buffer.from(encoded.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
    : Buffer.alloc(0);
  if (secret.length !== KEY_BYTES) {
    throw new IdentityError(
      'ERR_KEY_ENCRYPTION_KEY',
      `the key-encryption key file ${path} does not hold a 256-bit key: expected one line with the base64 of 32 random bytes (head -c 32 /dev/urandom | base64)`,
    );
  }
  const id = await calculateJwkThumbprint({ kty: 'oct', k: base64url.encode(secret) }, 'sha256');
  return { id, file: path, secret: new Uint8Array(secret) };
}

/** Writes a new random key to `file` (mode 0600); refuses to replace an existing file. */
export async function createKeyEncryptionKeyFile(file: string): Promise<KeyEncryptionKey> {
  const path = resolve(file);
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new IdentityError(
      'ERR_KEY_ENCRYPTION_KEY',
      code === 'EEXIST'
        ? `${path} already exists: a key-encryption key file is never overwritten; choose a new path`
        : `cannot create the key-encryption key file ${path} (${code ?? 'error'})`,
      { cause: error },
    );
  }
  try {
    await handle.writeFile(`${randomBytes(KEY_BYTES).toString('base64')}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return readKeyEncryptionKeyFile(path);
}

/** The key in `file`, made first if there is no such file. */
export async function useOrCreateKeyEncryptionKey(file: string): Promise<KeyEncryptionKey> {
  return existsSync(file) ? readKeyEncryptionKeyFile(file) : createKeyEncryptionKeyFile(file);
}
