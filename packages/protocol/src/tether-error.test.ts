// Tether errors are recognised by class and, across separately bundled copies of the class, by shape.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTetherError, TetherError } from './tether-error.js';

void test('recognises a TetherError, and one made by another copy of the class', () => {
  assert.ok(isTetherError(new TetherError('ERR_X', 'x')));
  class OtherCopy extends Error {
    override readonly name = 'TetherError';
    constructor(readonly code: string) {
      super('from another bundle');
    }
  }
  assert.ok(isTetherError(new OtherCopy('ERR_Y')));
});

void test('refuses plain errors and look-alikes without a code', () => {
  assert.equal(isTetherError(new Error('plain')), false);
  const noCode = Object.assign(new Error('x'), { name: 'TetherError' });
  assert.equal(isTetherError(noCode), false);
  assert.equal(
    isTetherError({ name: 'TetherError', code: 'ERR_Z', message: 'not an Error' }),
    false,
  );
});
