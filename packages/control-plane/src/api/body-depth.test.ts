// The nesting limit: ordinary bodies pass, a deep one is named by its path, and a body far
// deeper than the stack allows is measured without overflowing it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_BODY_DEPTH, tooDeepAt } from './body-depth.js';

function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

void test('passes flat and ordinarily nested bodies, scalars and null', () => {
  for (const body of [
    undefined,
    null,
    'x',
    1,
    [],
    { properties: { settings: { a: [1, { b: 2 }] } } },
    nested(MAX_BODY_DEPTH),
  ]) {
    assert.equal(tooDeepAt(body), undefined);
  }
});

void test('names the path where a body goes past the limit', () => {
  assert.equal(
    tooDeepAt({ properties: { settings: nested(MAX_BODY_DEPTH) } }),
    `properties.settings${'.a'.repeat(MAX_BODY_DEPTH - 2)}`,
  );
  assert.equal(tooDeepAt([[[1]]], 2), '[0][0]');
});

void test('measures 100,000 levels without a stack overflow', () => {
  assert.notEqual(tooDeepAt(nested(100_000)), undefined);
});
