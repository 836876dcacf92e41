// The machine identity for the extension service's calls: bearer tokens from the machine key,
// and the key itself, re-read from certs/machine.key because HIMDS rotates it (B2).
import { readFileSync } from 'node:fs';
import type { Clock } from '../../clock.js';
import { MachineTokenSource, type MachineIdentity } from '../../himds/machine-token-source.js';
import { parseMachineKey, type MachineKey } from '../../identity/machine-key.js';

export interface Credential {
  /** A bearer token for the control plane itself. */
  token(): Promise<string>;
  /** After a 401: re-reads the key and drops cached tokens, so the next token is new. */
  renew(): void;
  /** The key as it is on disk now (protected settings are sealed to it). */
  currentKey(): MachineKey;
}

export class MachineCredential implements Credential {
  private readonly tokens: MachineTokenSource;

  constructor(
    private readonly identity: MachineIdentity,
    private readonly keyFile: string,
    clock: Clock,
  ) {
    this.tokens = new MachineTokenSource(identity, readKey(keyFile), clock);
  }

  async token(): Promise<string> {
    return (await this.tokens.token(this.identity.endpoint)).token;
  }

  renew(): void {
    this.currentKey();
    this.tokens.forget();
  }

  currentKey(): MachineKey {
    const key = readKey(this.keyFile);
    if (key.keyId !== this.tokens.currentKey.keyId) this.tokens.useKey(key);
    return this.tokens.currentKey;
  }
}

function readKey(file: string): MachineKey {
  return parseMachineKey(readFileSync(file, 'utf8'));
}
