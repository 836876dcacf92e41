// Timers as a dependency, so loops that wait (heartbeats, backoff) are tested without waiting.
export interface Scheduler {
  /** Runs task once after delayMs; the returned function cancels it if it has not run. */
  schedule(delayMs: number, task: () => void): () => void;
}

export const systemScheduler: Scheduler = {
  schedule(delayMs, task) {
    const timer = setTimeout(task, delayMs);
    return () => clearTimeout(timer);
  },
};
