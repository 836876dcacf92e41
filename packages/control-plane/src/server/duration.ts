// Durations on the command line: `90s`, `30m`, `12h`, `7d`.
import { ServerError } from './server-error.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(raw: string, flag: string, minimumMs: number): number {
  const match = /^(\d{1,6})([smhd])$/.exec(raw.trim());
  const ms = match === null ? Number.NaN : Number(match[1]) * (UNITS[match[2] ?? ''] ?? Number.NaN);
  if (!(ms >= minimumMs)) {
    throw new ServerError(
      'ERR_SERVER_CONFIG',
      `${flag} ${JSON.stringify(raw)} is not valid: expected a whole number with s, m, h or d (such as 7d), at least ${minimumMs / 1000} seconds`,
      { target: flag },
    );
  }
  return ms;
}
