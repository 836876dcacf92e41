// Notices changes to localconfig.json (S7, S11): watches its folder, since the file is replaced
// by rename, and turns a burst of writes (temporary file, rename, backup) into one call.
import { watch, type FSWatcher } from 'node:fs';
import type { AgentPaths } from '../../paths.js';
import type { Scheduler } from '../../scheduler.js';

const DEBOUNCE_MS = 300;

export class ConfigWatcher {
  private watcher: FSWatcher | undefined;
  private cancelTimer: (() => void) | undefined;

  constructor(
    private readonly paths: AgentPaths,
    private readonly scheduler: Scheduler,
    private readonly onChange: () => void,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    try {
      this.watcher = watch(this.paths.dataDir, (_event, file) => {
        if (file === 'localconfig.json') this.changed();
      });
      this.watcher.on('error', (error) =>
        this.log(`watching ${this.paths.dataDir} failed: ${error.message}`),
      );
    } catch (error) {
      this.log(
        `cannot watch ${this.paths.dataDir}: ${(error as Error).message}; local configuration changes take effect when the service restarts`,
      );
    }
  }

  /** Also for tests and callers that know the file changed. */
  changed(): void {
    this.cancelTimer?.();
    this.cancelTimer = this.scheduler.schedule(DEBOUNCE_MS, () => {
      this.cancelTimer = undefined;
      this.onChange();
    });
  }

  stop(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
  }
}
