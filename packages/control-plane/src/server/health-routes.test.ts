// /healthz and /readyz answer without a token, say only their verdict, and /readyz turns 503
// once the database cannot be reached.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestControlPlane } from './testing/test-control-plane.js';

void describe('health routes', () => {
  let cp: TestControlPlane;
  before(async () => {
    cp = await TestControlPlane.start();
  });
  after(async () => {
    await cp.close().catch(() => undefined);
  });

  void it('/healthz answers 200 without a token, revealing nothing else', async () => {
    const answer = await cp.request('GET', '/healthz');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { status: 'ok' });
    assert.equal(answer.headers['cache-control'], 'no-store');
  });

  void it('/readyz answers 200 while the database is reachable and 503 once it is not', async () => {
    const ready = await cp.request('GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready' });
    await cp.db.destroy();
    const unavailable = await cp.request('GET', '/readyz');
    assert.equal(unavailable.status, 503);
    assert.deepEqual(unavailable.body, { status: 'unavailable' });
    const alive = await cp.request('GET', '/healthz');
    assert.equal(alive.status, 200, 'the process itself still answers');
  });
});
