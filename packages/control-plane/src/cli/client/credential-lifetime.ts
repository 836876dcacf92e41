// How long a new credential lives: `--years` (default 1) or `--end-date`, as in `az ad sp`.
import type { Clock } from '../../clock.js';
import { usageError } from './cli-error.js';

export interface LifetimeOptions {
  years?: number;
  endDate?: Date;
}

export function credentialEnd(options: LifetimeOptions, clock: Clock): Date {
  if (options.years !== undefined && options.endDate !== undefined) {
    throw usageError('pass either --years or --end-date, not both.', '--end-date');
  }
  const now = clock.now();
  if (options.endDate !== undefined) {
    if (options.endDate.getTime() <= now) {
      throw usageError(
        `--end-date ${options.endDate.toISOString()} is not in the future.`,
        '--end-date',
      );
    }
    return options.endDate;
  }
  const end = new Date(now);
  end.setUTCFullYear(end.getUTCFullYear() + (options.years ?? 1));
  return end;
}
