// The guest configuration switch heartbeats report, after a restart: each machine's first
// heartbeat costs the whole fleet one read, not one per machine, and writes nothing when the
// switch is unchanged; a flip is still stored.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { KyselyPlugin } from 'kysely';
import { testBackends } from '../store/testing/test-databases.js';
import { gcMachineState } from './gc-store.js';
import { GcSwitchWatch } from './gc-switch-watch.js';

const MACHINES = 60;
const NOW = (): string => '2026-12-03T12:00:00.000Z';

/** Counts the statements run through the Kysely instance it is added to, by kind. */
function statementCounter(): { plugin: KyselyPlugin; reads: number; writes: number } {
  const counter = {
    reads: 0,
    writes: 0,
    plugin: {
      transformQuery({ node }) {
        if (node.kind === 'SelectQueryNode') counter.reads++;
        else counter.writes++;
        return node;
      },
      transformResult: ({ result }) => Promise.resolve(result),
    } satisfies KyselyPlugin,
  };
  return counter;
}

for (const backend of testBackends()) {
  void describe(`guest configuration switch after a restart (${backend.name})`, () => {
    void it('reads every stored switch at once and stores only what changed', async () => {
      const store = await backend.open();
      try {
        const machines = Array.from({ length: MACHINES }, () => randomUUID());
        const off = new Set(machines.filter((_, i) => i % 10 === 0));
        for (const id of off) await GcSwitchWatch.of(store.db).observe(id, true, NOW);

        const counter = statementCounter();
        const restarted = (await store.reopen()).withPlugin(counter.plugin);
        const watch = GcSwitchWatch.of(restarted);
        // Every machine's first heartbeat after the restart reports what is stored.
        await Promise.all(
          machines.map((id) => watch.observe(id, off.has(id), NOW) ?? Promise.resolve()),
        );
        assert.deepEqual(counter, { ...counter, reads: 1, writes: 0 });
        // Their next heartbeats are answered from memory, without waiting.
        for (const id of machines) assert.equal(watch.observe(id, off.has(id), NOW), undefined);
        assert.deepEqual(counter, { ...counter, reads: 1, writes: 0 });

        // A machine that was off reports on, one that was on reports off: both are stored.
        const [wasOff, wasOn] = [machines[0] as string, machines[1] as string];
        await watch.observe(wasOff, false, NOW);
        await watch.observe(wasOn, true, NOW);
        assert.ok(counter.writes > 0);
        for (const id of machines) {
          const expected = id === wasOn || (id !== wasOff && off.has(id));
          assert.equal((await gcMachineState(store.db, id)).switchedOff, expected, id);
        }
      } finally {
        await store.dispose();
      }
    });
  });
}
