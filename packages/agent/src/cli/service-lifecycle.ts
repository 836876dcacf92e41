// What every root service's foreground run shares: a positive-seconds setting read from the
// environment, and running until SIGTERM or SIGINT, then stopping the service cleanly.
import { AgentError } from '../errors.js';

/** Milliseconds from an environment variable in seconds; undefined when unset or empty. */
export function secondsSetting(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const seconds = Number(text);
  if (!(seconds > 0) || !Number.isFinite(seconds)) {
    throw new AgentError(
      'ERR_INVALID_VALUE',
      `${name} "${text}" must be a positive number of seconds.`,
      { target: name },
    );
  }
  return seconds * 1000;
}

/** Resolves with the exit status once a signal has stopped `service`: 0, or 1 if stopping failed. */
export function runUntilSignalled(
  service: { stop(): Promise<void> },
  log: (line: string) => void,
): Promise<number> {
  return new Promise((resolve) => {
    const shutdown = (): void => {
      log('stopping');
      service.stop().then(
        () => resolve(0),
        (error: unknown) => {
          log(`stopping failed: ${(error as Error).message}`);
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
}
