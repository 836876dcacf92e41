// The protected-settings mask: which values it hides, in which encodings, and what it leaves.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { secretMask } from './secret-mask.js';

const settings = {
  commandToExecute: 'echo TOPSECRET-42',
  storageAccountKey: 'a"quoted\\key',
  nested: { list: ['deep-value', 7, true], short: 'abc' },
};

const cases: ReadonlyArray<{ name: string; input: string; expected: string }> = [
  { name: 'a value as printed', input: 'ran: echo TOPSECRET-42 ok', expected: 'ran: *** ok' },
  { name: 'every occurrence', input: 'deep-value/deep-value', expected: '***/***' },
  { name: 'nested in arrays', input: 'got deep-value', expected: 'got ***' },
  { name: 'JSON-escaped', input: '{"k":"a\\"quoted\\\\key"}', expected: '{"k":"***"}' },
  {
    name: 'base64',
    input: `b64 ${Buffer.from('deep-value').toString('base64')}`,
    expected: 'b64 ***',
  },
  {
    name: 'base64 without padding',
    input: `b64 ${Buffer.from('deep-value').toString('base64').replace(/=+$/, '')}.`,
    expected: 'b64 ***.',
  },
  { name: 'shorter than four characters is kept', input: 'abc and 7', expected: 'abc and 7' },
  {
    name: 'a tail cut inside a secret',
    input: 'SECRET-42 then more',
    expected: '*** then more',
  },
  { name: 'ordinary text untouched', input: 'nothing to hide', expected: 'nothing to hide' },
];

void describe('secretMask', () => {
  const mask = secretMask(settings);
  for (const { name, input, expected } of cases) {
    void test(name, () => {
      assert.equal(mask(input), expected);
    });
  }

  void test('a secret containing another is hidden whole', () => {
    const both = secretMask({ a: 'pass', b: 'password123' });
    assert.equal(both('x password123 y pass'), 'x *** y ***');
  });

  void test('no protected settings: text is unchanged', () => {
    assert.equal(secretMask(null)('echo TOPSECRET-42'), 'echo TOPSECRET-42');
  });
});
