// The short fuzz run of CI: every target, 200 inputs from a fixed seed, and no finding allowed.
// The long run (`npm run fuzz`) sends a million inputs per target and reports hangs as well.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ALL_TARGETS } from './all-targets.js';

const RUNS = 200;
const SEED = 20_240_710;

void describe('fuzz targets (short run)', () => {
  for (const target of ALL_TARGETS) {
    void it(`${target.name}: ${target.parser}`, async () => {
      const opened = await target.open();
      try {
        await fc.assert(
          fc.asyncProperty(opened.arbitrary, async (input) => {
            const finding = await opened.check(input);
            if (finding !== undefined) throw new Error(finding);
          }),
          { numRuns: RUNS, seed: SEED },
        );
      } finally {
        await opened.close?.();
      }
    });
  }

  void it('a target reports a crash that is not the module’s own error', async () => {
    const { expectOnly, tetherError } = await import('./expect-only.js');
    const finding = expectOnly(tetherError, () => {
      throw new TypeError("Cannot read properties of undefined (reading 'x')");
    });
    assert.match(finding ?? '', /^crash: TypeError/);
  });
});
