// Hosted processes: started after enable, restarted when they die, stopped by stopHosted(),
// by removal (also from another host, as `azcmagent extension remove` is) and never restarted then.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { systemClock } from '../../clock.js';
import { createExtensionHost } from './create-extension-host.js';
import { alive, harness, PUBLISHER, TYPE, waitFor } from './testing/host-test-harness.js';

const timings = {
  initialBackoffMs: 100,
  maxBackoffMs: 400,
  resetAfterMs: 60_000,
  stopGraceMs: 2000,
};
const HOSTED = 'echo "up $$ seq=$ConfigSequenceNumber" >> hosted-runs.txt; exec sleep 60';

function runs(dir: string): string[] {
  try {
    return readFileSync(join(dir, 'hosted-runs.txt'), 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

function pidOf(line: string | undefined): number {
  return Number(/^up (\d+)/.exec(line ?? '')?.[1]);
}

void describe('hosted processes', () => {
  void test('started after enable, restarted after dying, stopped by stopHosted()', async () => {
    const h = harness({ hostedTimings: timings });
    try {
      await h.publish('1.0.0', { hostedCommand: HOSTED });
      assert.equal((await h.host.apply(h.desired('1.0.0', 4), h.fetch)).result, 'Succeeded');
      const dir = h.temp.paths.extensionDir(PUBLISHER, TYPE, '1.0.0');
      await waitFor(() => runs(dir).length === 1);
      assert.match(runs(dir)[0] ?? '', /seq=4$/);
      const first = pidOf(runs(dir)[0]);
      process.kill(first, 'SIGKILL');
      await waitFor(() => runs(dir).length === 2);
      const second = pidOf(runs(dir)[1]);
      assert.ok(alive(second));
      assert.ok(
        h.logs.some((line) => /exited \(signal SIGKILL\); restarting in 100 ms/.test(line)),
      );

      h.host.startHosted(); // already running: nothing new
      await h.host.stopHosted();
      assert.ok(!alive(second));
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(runs(dir).length, 2, 'not restarted after stopHosted()');

      h.host.startHosted();
      await waitFor(() => runs(dir).length === 3);
      const third = pidOf(runs(dir)[2]);
      assert.ok(
        readFileSync(join(h.temp.paths.dataDir, 'extensions/hosted/probe.pid'), 'utf8').includes(
          String(third),
        ),
      );
      await h.host.stopHosted();
      assert.ok(!alive(third));
    } finally {
      await h.remove();
    }
  });

  void test('removal by another host (the CLI) stops it; the supervisor does not restart it', async () => {
    const h = harness({ hostedTimings: timings });
    try {
      await h.publish('1.0.0', { hostedCommand: HOSTED });
      await h.host.apply(h.desired('1.0.0', 1), h.fetch);
      const dir = h.temp.paths.extensionDir(PUBLISHER, TYPE, '1.0.0');
      await waitFor(() => runs(dir).length === 1);
      const pid = pidOf(runs(dir)[0]);
      const cli = createExtensionHost({
        paths: h.temp.paths,
        clock: systemClock,
        log: () => undefined,
        himdsPort: 40342,
        endpoint: undefined,
        resourceId: undefined,
        caFile: undefined,
        cpuLimitPercent: () => 5,
        hostedTimings: timings,
      });
      assert.equal((await cli.remove('probe', { local: true })).result, 'Succeeded');
      assert.ok(!alive(pid));
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(h.calls().slice(-2), ['1.0.0 disable seq=1', '1.0.0 uninstall seq=1']);
      assert.ok(
        h.logs.some((line) => /not restarted: the extension is no longer enabled/.test(line)),
      );
    } finally {
      await h.remove();
    }
  });
});
