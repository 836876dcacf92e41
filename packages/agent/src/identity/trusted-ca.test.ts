// Root's services read the control plane's CA only from where root alone can change it.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { AgentError } from '../errors.js';
import { makeTempRoot, type TempRoot } from '../test-support/temp-root.js';
import { readTrustedCa } from './trusted-ca.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
let temp: TempRoot;

beforeEach(() => {
  temp = makeTempRoot();
  mkdirSync(temp.paths.certsDir, { recursive: true });
  for (const dir of [temp.root, temp.paths.dataDir, temp.paths.certsDir]) chmodSync(dir, 0o755);
});
afterEach(() => temp.remove());

function refusal(): AgentError {
  try {
    readTrustedCa(temp.paths);
  } catch (error) {
    assert.ok(error instanceof AgentError);
    return error;
  }
  assert.fail('the CA was trusted');
}

void describe('readTrustedCa', () => {
  void test('reads a CA only root can change', () => {
    writeFileSync(temp.paths.caCert, PEM, { mode: 0o644 });
    assert.equal(readTrustedCa(temp.paths), PEM);
  });

  void test('answers undefined when connected without a CA (the system trust store)', () => {
    assert.equal(readTrustedCa(temp.paths), undefined);
  });

  void test('never reads the copy earlier versions kept in the himds-writable certs folder', () => {
    writeFileSync(temp.paths.legacyCaCert, PEM, { mode: 0o644 });
    const error = refusal();
    assert.equal(error.code, 'ERR_CA_UNTRUSTED');
    assert.match(error.message, /certs\/ca\.crt, in a folder the himds account can write/);
    assert.match(
      error.message,
      /sudo install -m 644 -o root -g root \S+certs\/ca\.crt \S+azcmagent\/ca\.crt/,
    );
  });

  void test('prefers the root-owned CA over anything planted in certs/', () => {
    writeFileSync(temp.paths.caCert, PEM, { mode: 0o644 });
    writeFileSync(temp.paths.legacyCaCert, 'planted', { mode: 0o644 });
    assert.equal(readTrustedCa(temp.paths), PEM);
  });

  void test('refuses a CA others can write, naming the file and the fix', () => {
    writeFileSync(temp.paths.caCert, PEM);
    chmodSync(temp.paths.caCert, 0o666);
    const error = refusal();
    assert.equal(error.code, 'ERR_CA_UNTRUSTED');
    assert.match(error.message, /ca\.crt is writable by users other than its owner/);
    assert.match(error.message, /sudo chown root:root \S+ca\.crt && sudo chmod 644/);
  });

  void test('refuses a CA in a folder others can write', () => {
    writeFileSync(temp.paths.caCert, PEM, { mode: 0o644 });
    chmodSync(temp.paths.dataDir, 0o777);
    assert.match(refusal().message, /azcmagent is writable by users other than its owner/);
  });
});
