// Notices changes to one file the service follows — localconfig.json (S7, S11) and the
// extension state that `azcmagent extension remove` changes — by watching its folder, since
// such files are replaced by rename; a burst of writes becomes one call.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Scheduler } from '../../scheduler.js';

const DEBOUNCE_MS = 300;

export class FileWatcher {
  private watcher: FSWatcher | undefined;
  private cancelTimer: (() => void) | undefined;

  constructor(
    private readonly file: string,
    private readonly scheduler: Scheduler,
    private readonly onChange: () => void,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    const dir = dirname(this.file);
    const name = basename(this.file);
    try {
      this.watcher = watch(dir, (_event, changed) => {
        if (changed === name) this.changed();
      });
      this.watcher.on('error', (error) => this.log(`watching ${dir} failed: ${error.message}`));
    } catch (error) {
      this.log(
        `cannot watch ${dir}: ${(error as Error).message}; changes to ${name} are noticed at the next goal state or restart`,
      );
    }
  }

  /** Also for callers that know the file changed. */
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
