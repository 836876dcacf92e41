// The goal state is checked before anything acts on it: a malformed answer names its field.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseGoalState } from './goal-state.js';

const EXTENSION = {
  name: 'CustomScript',
  publisher: 'Microsoft.Azure.Extensions',
  type: 'CustomScript',
  version: '2.1.0',
  sequence: 3,
  settings: { commandToExecute: 'echo' },
  protectedSettings: { jwe: 'a.b.c.d.e', keyId: 'kid' },
  state: 'enabled',
  operation: { id: 'op', kind: 'install' },
};

void describe('parseGoalState', () => {
  void test('reads the documented answer', () => {
    const state = parseGoalState({ generation: 17, extensions: [EXTENSION] });
    assert.equal(state.generation, 17);
    assert.deepEqual(state.extensions[0], EXTENSION);
  });

  void test('null protected settings, settings and operation', () => {
    const state = parseGoalState({
      generation: 1,
      extensions: [{ ...EXTENSION, protectedSettings: null, settings: null, operation: null }],
    });
    assert.deepEqual(state.extensions[0]?.settings, {});
    assert.equal(state.extensions[0]?.protectedSettings, null);
    assert.equal(state.extensions[0]?.operation, null);
  });

  void test('names the field that is wrong', () => {
    const cases: [unknown, RegExp][] = [
      [[], /the answer is not a JSON object/],
      [{ extensions: [] }, /"generation"/],
      [{ generation: 1 }, /"extensions"/],
      [
        { generation: 1, extensions: [{ ...EXTENSION, sequence: -1 }] },
        /extensions\[0\]\.sequence/,
      ],
      [{ generation: 1, extensions: [{ ...EXTENSION, state: 'x' }] }, /extensions\[0\]\.state/],
      [
        { generation: 1, extensions: [{ ...EXTENSION, operation: { id: 'o', kind: 'delete' } }] },
        /operation\.kind/,
      ],
      [
        { generation: 1, extensions: [{ ...EXTENSION, protectedSettings: { jwe: 1 } }] },
        /protectedSettings/,
      ],
      [{ generation: 1, extensions: [{ ...EXTENSION, name: '' }] }, /extensions\[0\]\.name/],
    ];
    for (const [body, message] of cases) assert.throws(() => parseGoalState(body), message);
  });
});
