// Scope spelling and ancestry: the ground every inherited role assignment stands on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTetherError } from '@tether/protocol';
import { isWithinScope, normalizeScope, scopeAndAncestors } from './scope.js';

const SUB = '/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590';

void describe('normalizeScope', () => {
  const valid: [raw: string, expected: string][] = [
    ['/', '/'],
    ['//', '/'],
    ['/subscriptions/ABC', '/subscriptions/abc'],
    ['//subscriptions/abc', '/subscriptions/abc'],
    ['/subscriptions/abc/', '/subscriptions/abc'],
    ['/subscriptions/abc///', '/subscriptions/abc'],
    [`${SUB}/resourceGroups/RG-1`, `${SUB}/resourcegroups/rg-1`],
    [
      `${SUB}/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/Web01/extensions/AzureMonitorLinuxAgent`,
      `${SUB}/resourcegroups/rg/providers/microsoft.hybridcompute/machines/web01/extensions/azuremonitorlinuxagent`,
    ],
    [
      '/providers/Microsoft.Management/managementGroups/mg1',
      '/providers/microsoft.management/managementgroups/mg1',
    ],
  ];
  for (const [raw, expected] of valid) {
    void it(`normalizes ${JSON.stringify(raw)}`, () => {
      assert.equal(normalizeScope(raw), expected);
      assert.equal(normalizeScope(expected), expected, 'a normalized scope stays as it is');
    });
  }

  void it('accepts names in any script', () => {
    assert.equal(
      normalizeScope(`${SUB}/resourceGroups/Équipe-東京`),
      `${SUB}/resourcegroups/équipe-東京`,
    );
  });

  const invalid: [raw: string, why: RegExp][] = [
    ['', /empty/],
    ['subscriptions/abc', /does not start with "\/"/],
    ['/subscriptions//abc', /empty segment/],
    ['///subscriptions/abc', /empty segment/],
    ['/subscriptions/abc/resourceGroups/../x', /"\." or "\.\." segment/],
    ['/subscriptions/./x', /"\." or "\.\." segment/],
    ['/subscriptions', /has no name after it/],
    ['/subscriptions/abc/resourceGroups', /"resourcegroups" has no name after it/],
    ['/tenants/abc', /must begin with/],
    ['/subscriptions/a b', /whitespace/],
    ['/subscriptions/abc\n', /control character/],
    ['/subscriptions/a\u00a0b', /whitespace/],
    ['/subscriptions/a\u0085b', /control character/],
    ['/subscriptions/a\u007fb', /control character/],
    ['/subscriptions/abc?x=1', /\?/],
    ['/subscriptions/*', /\*/],
    ['/subscriptions/a%2f', /%/],
    ['/subscriptions/a\\b', /\\/],
    [`/subscriptions/${'a'.repeat(3000)}`, /longer than 2048/],
  ];
  for (const [raw, why] of invalid) {
    void it(`rejects ${JSON.stringify(raw.slice(0, 40))}`, () => {
      assert.throws(
        () => normalizeScope(raw),
        (error: unknown) => {
          assert.ok(isTetherError(error));
          assert.equal(error.code, 'ERR_INVALID_SCOPE');
          assert.match(error.message, why);
          assert.ok(error.message.includes(JSON.stringify(raw)), 'the message names the value');
          return true;
        },
      );
    });
  }

  void it('rejects a value that is not a string', () => {
    assert.throws(() => normalizeScope(undefined as unknown as string), {
      code: 'ERR_INVALID_SCOPE',
    });
  });
});

void describe('isWithinScope', () => {
  const rg = `${SUB}/resourcegroups/rg`;
  const cases: [scope: string, ancestor: string, expected: boolean][] = [
    ['/', '/', true],
    [SUB, '/', true],
    [SUB, SUB, true],
    [rg, SUB, true],
    [`${rg}/providers/microsoft.hybridcompute/machines/m1`, rg, true],
    [`${rg}/providers/microsoft.hybridcompute/machines/m1`, SUB, true],
    [SUB, rg, false],
    ['/', SUB, false],
    [`${SUB}/resourcegroups/rg1`, rg, false],
    [`${SUB}/resourcegroups/rg1/providers/x/y/z`, rg, false],
    [`${SUB}0/resourcegroups/rg`, SUB, false],
    [`${SUB}/resourcegroups/other`, rg, false],
  ];
  for (const [scope, ancestor, expected] of cases) {
    void it(`${scope.replace(SUB, '/sub')} within ${ancestor.replace(SUB, '/sub')}: ${expected}`, () =>
      assert.equal(isWithinScope(scope, ancestor), expected));
  }
});

void describe('scopeAndAncestors', () => {
  void it('lists the root, each name/value level and the scope itself, root first', () => {
    const machine = `${SUB}/resourcegroups/rg/providers/microsoft.hybridcompute/machines/m1`;
    assert.deepEqual(scopeAndAncestors(machine), [
      '/',
      SUB,
      `${SUB}/resourcegroups/rg`,
      `${SUB}/resourcegroups/rg/providers/microsoft.hybridcompute`,
      machine,
    ]);
    assert.deepEqual(scopeAndAncestors('/'), ['/']);
    assert.deepEqual(scopeAndAncestors(SUB), ['/', SUB]);
  });
});
