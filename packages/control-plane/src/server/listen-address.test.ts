// Command-line values of `tether server`: listen addresses, certificate names and durations,
// each refused with the flag named.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTetherError } from '@tether/protocol';
import { parseDuration } from './duration.js';
import {
  certificateNames,
  checkSubjectAltName,
  defaultPublicUrl,
  parseListenAddress,
} from './listen-address.js';

const refusedWith = (flag: string) => (error: unknown) => {
  assert.ok(isTetherError(error));
  assert.equal(error.code, 'ERR_SERVER_CONFIG');
  assert.equal(error.target, flag);
  return true;
};

void describe('server command-line values', () => {
  void it('parses listen addresses, IPv6 in brackets, port 0 included', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:8443'), { host: '127.0.0.1', port: 8443 });
    assert.deepEqual(parseListenAddress('0.0.0.0:0'), { host: '0.0.0.0', port: 0 });
    assert.deepEqual(parseListenAddress('[::1]:443'), { host: '::1', port: 443 });
    assert.deepEqual(parseListenAddress('tether.example:8443'), {
      host: 'tether.example',
      port: 8443,
    });
  });

  void it('refuses malformed listen addresses', () => {
    for (const bad of [
      '8443',
      '127.0.0.1',
      '127.0.0.1:65536',
      ':8443',
      '::1:8443',
      '[nothost]:1',
      '127.0.0.1:-1',
    ]) {
      assert.throws(() => parseListenAddress(bad), refusedWith('--listen'), bad);
    }
  });

  void it('derives the public URL from the bound address', () => {
    assert.equal(defaultPublicUrl('127.0.0.1', 8443), 'https://127.0.0.1:8443');
    assert.equal(defaultPublicUrl('::1', 8443), 'https://[::1]:8443');
    assert.match(defaultPublicUrl('0.0.0.0', 8443), /^https:\/\/[^/]+:8443$/);
  });

  void it('names loopback, this host, the listen host and the public host in the certificate', () => {
    const names = certificateNames('10.0.0.5', 'https://tether.example:8443', ['extra.example']);
    for (const name of [
      'localhost',
      '127.0.0.1',
      '::1',
      '10.0.0.5',
      'tether.example',
      'extra.example',
    ]) {
      assert.ok(names.includes(name), name);
    }
    assert.equal(new Set(names).size, names.length);
  });

  void it('accepts DNS names and IP addresses as --san, nothing else', () => {
    assert.equal(checkSubjectAltName('Tether.Example'), 'tether.example');
    assert.equal(checkSubjectAltName('192.168.1.10'), '192.168.1.10');
    for (const bad of ['*.example', 'has space', 'a/b', '']) {
      assert.throws(() => checkSubjectAltName(bad), refusedWith('--san'), bad);
    }
  });

  void it('parses durations and refuses ones too short or malformed', () => {
    assert.equal(parseDuration('7d', '--key-rotation', 60_000), 7 * 86_400_000);
    assert.equal(parseDuration('90m', '--key-rotation', 60_000), 90 * 60_000);
    for (const bad of ['7', '1w', '-1d', '30s', '1.5h']) {
      assert.throws(
        () => parseDuration(bad, '--key-rotation', 60_000),
        refusedWith('--key-rotation'),
        bad,
      );
    }
  });
});
