// The printed install command is one valid shell command carrying the CA, the endpoint and the
// token as separate quoted words, and refuses values a shell would change.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { installCommand } from './install-command.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

void describe('install command', () => {
  void it('is one command whose words are the script, the CA, the endpoint and the token', () => {
    const command = installCommand({
      endpoint: 'https://tether.example:8443/',
      caPem: CA,
      token: 'abc.DEF-123_x',
    });
    assert.match(command, /^sudo sh -c '/);
    const syntax = spawnSync('sh', ['-n', '-c', command.replace(/^sudo /, '')]);
    assert.equal(syntax.status, 0);
    // The words as sh sees them: $0 is a name, then the CA, the endpoint and the token.
    const words = spawnSync(
      'sh',
      ['-c', `set -- ${command.replace(/^sudo sh -c /, '')}; shift; printf '%s|' "$@"`],
      { encoding: 'utf8' },
    ).stdout;
    assert.equal(words, `tether-install|${CA.trim()}|https://tether.example:8443|abc.DEF-123_x|`);
  });

  void it('refuses a token, endpoint or CA that would change the command', () => {
    const ok = { endpoint: 'https://h:1', caPem: CA, token: 't' };
    assert.throws(() => installCommand({ ...ok, token: "t'; rm -rf /" }), /shell would alter/);
    assert.throws(() => installCommand({ ...ok, endpoint: 'https://h:1/$(id)' }), /cannot go into/);
    assert.throws(() => installCommand({ ...ok, caPem: 'not a certificate' }), /not a PEM/);
  });
});
