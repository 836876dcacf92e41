import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { untrustedText } from './untrusted-text.js';

void describe('untrustedText', () => {
  void it('shows strings as they are and other JSON values as JSON', () => {
    assert.equal(untrustedText('RS256'), 'RS256');
    assert.equal(untrustedText(['b64']), '["b64"]');
    assert.equal(untrustedText(7), '7');
    assert.equal(untrustedText(null), 'null');
    assert.equal(untrustedText(undefined), 'undefined');
  });

  void it('shows an object whose toString is not a function, where String() throws', () => {
    const crafted: unknown = JSON.parse('{"toString":-779383122,"valueOf":1}');
    assert.throws(() => String(crafted), TypeError);
    assert.equal(untrustedText(crafted), '{"toString":-779383122,"valueOf":1}');
  });

  void it('cuts long values to the length given', () => {
    assert.equal(untrustedText('x'.repeat(500)).length, 100);
    assert.equal(untrustedText({ a: 'y'.repeat(500) }, 10), '{"a":"yyyy');
  });
});
