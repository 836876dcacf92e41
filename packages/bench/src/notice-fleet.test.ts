// A simulated machine's reading of its channel: a fetch per notice for extensions, never two at
// once, one more after the fetch in flight when a notice came meanwhile, nothing for the rest.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NoticeListener } from './notice-fleet.js';

const NOTICE = JSON.stringify({ type: 'goalStateChanged', service: 'extensions' });

function listener(): { listener: NoticeListener; fetches: { count: number } } {
  const fetches = { count: 0 };
  return { fetches, listener: new NoticeListener(() => fetches.count++) };
}

void test('the hello greets; a notice for extensions fetches', () => {
  const { listener: l, fetches } = listener();
  assert.equal(l.greeted, false);
  l.frame(JSON.stringify({ type: 'hello', notices: ['extensions', 'guestConfiguration'] }));
  assert.equal(l.greeted, true);
  assert.equal(fetches.count, 0);
  l.frame(NOTICE);
  assert.equal(fetches.count, 1);
});

void test('notices during a fetch make one more fetch after it, not one each', () => {
  const { listener: l, fetches } = listener();
  l.frame(NOTICE);
  l.frame(NOTICE);
  l.frame(NOTICE);
  assert.equal(fetches.count, 1);
  l.fetched();
  assert.equal(fetches.count, 2);
  l.fetched();
  assert.equal(fetches.count, 2);
  l.frame(NOTICE);
  assert.equal(fetches.count, 3);
});

void test('other services, acks and unknown frames fetch nothing', () => {
  const { listener: l, fetches } = listener();
  l.frame(JSON.stringify({ type: 'goalStateChanged', service: 'guestConfiguration' }));
  l.frame(JSON.stringify({ type: 'ack', id: 1, status: 200, body: {} }));
  l.frame(JSON.stringify({ type: 'somethingNew', service: 'extensions' }));
  assert.equal(fetches.count, 0);
});
