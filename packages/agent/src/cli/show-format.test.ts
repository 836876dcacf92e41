// show's aligned `Label : value` lines.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatShowLines } from './show-command.js';

void test('labels are padded to the longest so the colons line up', () => {
  assert.equal(
    formatShowLines([
      ['Resource Name', 'm1'],
      ['VM ID', 'abc'],
    ]),
    'Resource Name : m1\nVM ID         : abc\n',
  );
});
