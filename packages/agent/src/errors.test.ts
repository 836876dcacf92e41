// Every error code has a documented exit status, and the exit table is what the README says.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { AgentError, EXIT_CODES, exitCodeFor } from './errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

void test('the README exit-code table lists every code with its exit status', () => {
  for (const [code, exit] of Object.entries(EXIT_CODES)) {
    const row = readme.split('\n').find((line) => line.includes(`\`${code}\``));
    assert.ok(row !== undefined, `${code} is documented`);
    const exitCell = row.split('|')[1]?.trim();
    assert.equal(exitCell, String(exit), `${code} is documented with exit ${exit}`);
  }
});

void test('errors map to their exit status; anything else is an internal error', () => {
  assert.equal(exitCodeFor(new AgentError('ERR_NOT_ROOT', 'x')), 3);
  assert.equal(exitCodeFor(new AgentError('ERR_CONFIG_CORRUPT', 'x')), 4);
  assert.equal(exitCodeFor(new Error('unexpected')), 1);
});
