// Azure action wildcards: `*` spans '/', case never matters, and a custom role cannot smuggle
// regular-expression syntax into the matcher.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileActionPattern } from './action-pattern.js';

const matches = (pattern: string, action: string): boolean =>
  compileActionPattern(pattern).matches(action.toLowerCase());

void describe('compileActionPattern', () => {
  const cases: [pattern: string, action: string, expected: boolean][] = [
    ['*', 'Microsoft.HybridCompute/machines/read', true],
    ['*/read', 'Microsoft.HybridCompute/machines/read', true],
    ['*/read', 'Microsoft.HybridCompute/machines/extensions/read', true],
    ['*/read', 'Microsoft.HybridCompute/machines/write', false],
    ['*/read', 'Microsoft.HybridCompute/machines/readers/write', false],
    ['Microsoft.Authorization/*/Write', 'Microsoft.Authorization/roleAssignments/write', true],
    [
      'Microsoft.Authorization/*/Write',
      'microsoft.authorization/directory/groups/members/WRITE',
      true,
    ],
    ['Microsoft.Authorization/*/Write', 'Microsoft.Authorization/roleAssignments/read', false],
    ['Microsoft.Authorization/*/Write', 'Microsoft.Authorization/write', false],
    ['Microsoft.Authorization/*', 'Microsoft.Authorization/roleAssignments/write', true],
    ['Microsoft.Authorization/*', 'Microsoft.AuthorizationX/roleAssignments/write', false],
    [
      'Microsoft.HybridCompute/machines/*',
      'Microsoft.HybridCompute/machines/extensions/write',
      true,
    ],
    ['Microsoft.HybridCompute/machines/*', 'Microsoft.HybridCompute/machines', false],
    ['Microsoft.HybridCompute/*/read', 'Microsoft.HybridCompute/machines/extensions/read', true],
    ['Microsoft.HybridCompute/*/read', 'Microsoft.Compute/machines/read', false],
    ['microsoft.hybridcompute/MACHINES/read', 'Microsoft.HybridCompute/machines/READ', true],
    ['Microsoft.HybridCompute/machines/read', 'Microsoft.HybridCompute/machines/read/x', false],
    ['Microsoft.HybridCompute/machines/read', 'x/Microsoft.HybridCompute/machines/read', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'acb', false],
    ['a*a', 'a', false],
    ['a*a', 'aa', true],
    ['*a*', 'bab', true],
    ['**', 'anything', true],
    // Regex syntax is literal text.
    ['Microsoft.Compute/.+', 'Microsoft.Compute/virtualMachines', false],
    ['Microsoft.Compute/.+', 'Microsoft.Compute/.+', true],
    ['Microsoft.Compute/(read|write)', 'Microsoft.Compute/read', false],
    ['Microsoft.Compute/[a-z]*', 'Microsoft.Compute/x', false],
    ['Microsoft.Compute/[a-z]*', 'Microsoft.Compute/[a-z]anything', true],
    ['Microsoft.Compute/read', 'MicrosoftXCompute/read', false],
    ['^Microsoft.Compute/read$', 'Microsoft.Compute/read', false],
    ['Microsoft.Compute/?ead', 'Microsoft.Compute/read', false],
  ];
  for (const [pattern, action, expected] of cases) {
    void it(`${pattern} ${expected ? 'matches' : 'does not match'} ${action}`, () =>
      assert.equal(matches(pattern, action), expected));
  }

  void it('answers a pathological pattern without backtracking', () => {
    const pattern = `${'*a'.repeat(40)}*b`;
    assert.equal(matches(pattern, 'a'.repeat(500)), false);
    assert.equal(matches(pattern, `${'a'.repeat(500)}b`), true);
  });

  const invalid: [pattern: string, why: RegExp][] = [
    ['', /empty/],
    ['Microsoft.Compute/ read', /whitespace/],
    ['Microsoft.Compute/\tread', /whitespace/],
    ['Microsoft.Compute/\u0000', /control/],
    [`Microsoft.Compute/${'x'.repeat(600)}`, /at most 512/],
  ];
  for (const [pattern, why] of invalid) {
    void it(`rejects ${JSON.stringify(pattern.slice(0, 30))}`, () =>
      assert.throws(() => compileActionPattern(pattern), {
        code: 'ERR_INVALID_ACTION_PATTERN',
        message: why,
      }));
  }
});
