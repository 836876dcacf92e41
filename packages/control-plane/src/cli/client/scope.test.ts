// Scopes typed on the command line: which are accepted, how they are encoded and compared.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CliError } from './cli-error.js';
import { isSameOrAncestorScope, parseScope, resourceGroupOf, scopePath } from './scope.js';

const SUB = '/subscriptions/22222222-2222-4222-8222-222222222222';

void describe('client scopes', () => {
  void it('accepts the root, subscriptions and anything below, normalizing slashes', () => {
    assert.equal(parseScope('/'), '/');
    assert.equal(parseScope(`${SUB}/`), SUB);
    assert.equal(parseScope(`/${SUB}/resourceGroups/rg`), `${SUB}/resourceGroups/rg`);
    const machine = `${SUB}/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/web-01`;
    assert.equal(parseScope(machine), machine);
  });

  void it('refuses what is not a scope, naming the flag and the accepted forms', () => {
    for (const bad of [
      '',
      'subscriptions/x',
      '/subscriptions/not-a-guid',
      '/tenants/x',
      `${SUB}/../other`,
      `${SUB}/a b`,
      `${SUB}/a?b`,
      `${SUB}//rg`,
    ]) {
      assert.throws(
        () => parseScope(bad, '--scope'),
        (error: unknown) =>
          error instanceof CliError &&
          error.code === 'ERR_USAGE' &&
          error.message.startsWith('--scope'),
        bad,
      );
    }
  });

  void it('encodes each segment of a scope path', () => {
    assert.equal(scopePath('/'), '');
    assert.equal(scopePath(`${SUB}/resourceGroups/r(1)é`), `${SUB}/resourceGroups/r(1)%C3%A9`);
  });

  void it('compares scopes case-insensitively along the hierarchy', () => {
    assert.ok(isSameOrAncestorScope('/', SUB));
    assert.ok(isSameOrAncestorScope(SUB.toUpperCase(), `${SUB}/resourceGroups/rg`));
    assert.ok(!isSameOrAncestorScope(`${SUB}/resourceGroups/rg`, `${SUB}/resourceGroups/rg2`));
    assert.ok(!isSameOrAncestorScope(`${SUB}/resourceGroups/rg`, SUB));
    assert.equal(resourceGroupOf(`${SUB}/resourcegroups/Prod/providers/x/y/z`), 'Prod');
  });
});
