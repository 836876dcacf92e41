// The `if` language as a table: each condition against a Linux machine, a Windows machine
// and an extension, and the errors bad conditions get, each naming its JSON path.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluateCondition, parseCondition } from './policy-condition.js';
import { PolicyError } from './policy-error.js';
import { ParameterDefinitions } from './policy-parameters.js';
import { extensionView, machineView } from './resource-views.js';

const ubuntu = machineView({
  id: '/subscriptions/s/resourcegroups/rg/providers/microsoft.hybridcompute/machines/web01',
  name: 'web01',
  location: 'westeurope',
  tags: { Env: 'prod', owner: 'ops' },
  properties: { osName: 'Ubuntu', osType: 'linux' },
});
const windows = machineView({
  id: '/subscriptions/s/resourcegroups/rg/providers/microsoft.hybridcompute/machines/win01',
  name: 'win01',
  location: 'northeurope',
  tags: {},
  properties: { osName: 'Windows Server 2022' },
});
const extension = extensionView({
  id: `${ubuntu.id}/extensions/ama`,
  name: 'ama',
  location: 'westeurope',
  tags: {},
  publisher: 'Microsoft.Azure.Monitor',
  type: 'AzureMonitorLinuxAgent',
});

const parameters = ParameterDefinitions.parse(
  {
    allowed: { type: 'Array', defaultValue: ['CustomScript'] },
    region: { type: 'String', defaultValue: 'westeurope' },
  },
  'properties.parameters',
);
const values = { allowed: ['AzureMonitorLinuxAgent'], region: 'WestEurope' };

/** condition → [ubuntu, windows, extension] */
const TABLE: [unknown, [boolean, boolean, boolean]][] = [
  [{ field: 'type', equals: 'Microsoft.HybridCompute/machines' }, [true, true, false]],
  [{ field: 'type', equals: 'microsoft.hybridcompute/MACHINES' }, [true, true, false]],
  [{ field: 'type', notEquals: 'Microsoft.HybridCompute/machines' }, [false, false, true]],
  [{ field: 'Microsoft.HybridCompute/imageOffer', like: 'linux*' }, [true, false, false]],
  [{ field: 'Microsoft.HybridCompute/imageOffer', equals: 'linux-ubuntu' }, [true, false, false]],
  [{ field: 'Microsoft.HybridCompute/imageOffer', like: 'windows*' }, [false, true, false]],
  [{ field: 'Microsoft.HybridCompute/imageOffer', notLike: 'linux*' }, [false, true, true]],
  [{ field: 'Microsoft.HybridCompute/machines/osName', contains: 'server' }, [false, true, false]],
  [{ field: 'name', like: '*01' }, [true, true, false]],
  [{ field: 'name', like: 'w*1' }, [true, true, false]],
  [{ field: 'location', in: ['westeurope', 'eastus'] }, [true, false, true]],
  [{ field: 'location', notIn: ['westeurope'] }, [false, true, false]],
  [{ field: 'location', equals: "[parameters('region')]" }, [true, false, true]],
  [{ field: "tags['env']", equals: 'prod' }, [true, false, false]],
  [{ field: 'tags.Env', exists: true }, [true, false, false]],
  [{ field: 'tags[owner]', exists: 'false' }, [false, true, true]],
  [{ field: 'tags', exists: true }, [true, true, true]],
  [{ field: 'tags.missing', notEquals: 'x' }, [true, true, true]],
  [{ field: 'tags.missing', equals: '' }, [false, false, false]],
  [
    { field: 'Microsoft.HybridCompute/machines/extensions/publisher', exists: true },
    [false, false, true],
  ],
  [
    { field: 'Microsoft.HybridCompute/machines/extensions/type', in: "[parameters('allowed')]" },
    [false, false, true],
  ],
  [
    { field: 'Microsoft.HybridCompute/machines/extensions/type', notIn: "[parameters('allowed')]" },
    [true, true, false],
  ],
  [{ value: "[parameters('region')]", equals: 'westeurope' }, [true, true, true]],
  [{ value: '[[literal]', equals: '[[literal]' }, [true, true, true]],
  [{ not: { field: 'type', equals: 'Microsoft.HybridCompute/machines' } }, [false, false, true]],
  [
    {
      allOf: [
        { field: 'type', equals: 'Microsoft.HybridCompute/machines' },
        { field: 'Microsoft.HybridCompute/imageOffer', like: 'linux*' },
      ],
    },
    [true, false, false],
  ],
  [
    {
      anyOf: [
        { field: 'name', equals: 'win01' },
        { field: 'Microsoft.HybridCompute/machines/extensions/type', like: '*Linux*' },
      ],
    },
    [false, true, true],
  ],
];

void describe('policy conditions', () => {
  TABLE.forEach(([raw, expected], i) => {
    void test(`${i}: ${JSON.stringify(raw)}`, () => {
      const condition = parseCondition(raw, 'if', parameters);
      const got = [ubuntu, windows, extension].map((v) => evaluateCondition(condition, v, values));
      assert.deepEqual(got, expected);
    });
  });
});

/** Bad condition → the JSON path the error must name, and a phrase of its reason. */
const BAD: [unknown, string, RegExp][] = [
  [{ field: 'type', equalz: 'x' }, 'if.equalz', /not a known operator; accepted: equals/],
  [
    { field: 'Microsoft.Compute/imageOffer', equals: 'x' },
    'if.field',
    /not a known field or alias/,
  ],
  [
    {
      allOf: [
        { field: 'type', equals: 'a' },
        { field: 'nope', equals: 'b' },
      ],
    },
    'if.allOf[1].field',
    /alias/,
  ],
  [{ field: 'name', in: 'web01' }, 'if.in', /array/],
  [{ field: 'name', like: 3 }, 'if.like', /string pattern/],
  [{ field: 'name', exists: 'maybe' }, 'if.exists', /true or false/],
  [{ field: 'name', equals: "[parameters('nope')]" }, 'if.equals', /'nope', which is not declared/],
  [{ field: 'name', equals: "[concat('a','b')]" }, 'if.equals', /not a supported expression/],
  [{ field: 'name', in: "[parameters('region')]" }, 'if.in', /needs an Array/],
  [{ field: 'name', equals: 'a', like: 'b' }, 'if', /two operators/],
  [{ equals: 'a' }, 'if', /must name a 'field' or a 'value'/],
  [{ field: 'name' }, 'if', /must have an operator/],
  [{ allOf: [] }, 'if.allOf', /non-empty array/],
  [{ allOf: [{ field: 'name', equals: 'a' }], field: 'x' }, 'if', /must hold only/],
  ['type == machine', 'if', /condition object/],
];

void describe('policy condition errors', () => {
  for (const [raw, path, reason] of BAD) {
    void test(`${JSON.stringify(raw)} → ${path}`, () => {
      assert.throws(
        () => parseCondition(raw, 'if', parameters),
        (error: unknown) =>
          error instanceof PolicyError && error.target === path && reason.test(error.message),
      );
    });
  }
});
