// The fault suite's short form, as CI runs it: every fault with a few dozen simulated machines
// and seconds of load. Needs root (a tmpfs mount; PostgreSQL run as its own user).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { postgresBinDir } from '@tether/e2e/dist/harness/postgres-server.js';
import { FAULTS } from './faults/index.js';

const NEEDS_POSTGRES = new Set(['node-kill', 'postgres-restart']);

void describe('fault suite (short form)', () => {
  for (const [name, fault] of Object.entries(FAULTS)) {
    const skip =
      NEEDS_POSTGRES.has(name) && postgresBinDir() === undefined
        ? 'PostgreSQL is not installed'
        : false;
    void it(name, { skip, timeout: 180_000 }, async () => {
      const verdict = await fault({ short: true });
      verdict.print();
      assert.deepEqual(verdict.broken, [], `${name}: ${verdict.broken.join('; ')}`);
    });
  }
});
