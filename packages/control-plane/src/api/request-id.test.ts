import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestId } from './request-id.js';

void describe('requestId', () => {
  void it('is a random version 4 UUID in lower case, a new one each time', () => {
    const ids = Array.from({ length: 1000 }, () => requestId());
    for (const id of ids) {
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    assert.equal(new Set(ids).size, ids.length);
  });
});
