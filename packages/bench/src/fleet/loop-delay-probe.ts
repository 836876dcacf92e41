// Loaded into a `tether server` the fleet benchmark starts (`node --import`), it measures how
// late the server's event loop runs (perf_hooks.monitorEventLoopDelay, 10 ms resolution): on
// SIGUSR2 it writes the delays seen since the last signal to TETHER_BENCH_LOOP_DELAY_FILE (JSON,
// milliseconds) and starts over. Nothing else in the server changes.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface LoopDelay {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Each signal's answer has a number of its own, so a reader can tell a new one apart. */
  readonly sequence: number;
}

const file = process.env['TETHER_BENCH_LOOP_DELAY_FILE'];
if (file !== undefined && file !== '') {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let sequence = 0;
  process.on('SIGUSR2', () => {
    sequence += 1;
    const delay: LoopDelay = {
      p50: histogram.percentile(50) / 1e6,
      p99: histogram.percentile(99) / 1e6,
      max: histogram.max / 1e6,
      sequence,
    };
    writeFileSync(file, JSON.stringify(delay));
    histogram.reset();
  });
}
