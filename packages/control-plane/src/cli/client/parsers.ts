// Argument parsers for commander options: each rejects bad input with a message saying what
// is accepted, so commander can name the flag and nothing is sent to the control plane.
import { InvalidArgumentError } from 'commander';
import { CliError } from './cli-error.js';
import { isGuid, parseScope } from './scope.js';

export type OutputFormat = 'json' | 'table';

export function parseOutputFormat(value: string): OutputFormat {
  if (value === 'json' || value === 'table') return value;
  throw new InvalidArgumentError('Allowed values: json, table.');
}

export function parseGuid(value: string): string {
  if (isGuid(value)) return value.toLowerCase();
  throw new InvalidArgumentError('Expected a GUID such as 00000000-0000-0000-0000-000000000000.');
}

export function parseScopeArgument(value: string): string {
  try {
    return parseScope(value, 'the scope');
  } catch (error) {
    if (error instanceof CliError) throw new InvalidArgumentError(error.message);
    throw error;
  }
}

/** Azure's rule: 1–90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.'. */
export function parseResourceGroupName(value: string): string {
  if (/^[\p{L}\p{N}_().-]{1,90}$/u.test(value) && !value.endsWith('.')) return value;
  throw new InvalidArgumentError(
    "A resource group name is 1-90 letters, digits, '_', '-', '.', '(' or ')' and does not end in '.'.",
  );
}

/** A resource name that is safe as one path segment; the control plane applies its own rules. */
export function parseResourceName(value: string): string {
  if (value !== '' && value !== '.' && value !== '..' && !/[/\\?#%\s]/.test(value)) return value;
  throw new InvalidArgumentError(
    "A resource name is non-empty and contains no '/', '\\', '?', '#', '%' or spaces.",
  );
}

/** `az`-style tags: space-separated `key=value` (or bare `key` for an empty value). */
export function parseTag(
  value: string,
  previous: Record<string, string> = {},
): Record<string, string> {
  if (value === '') return previous;
  const equals = value.indexOf('=');
  const key = equals === -1 ? value : value.slice(0, equals);
  const tagValue = equals === -1 ? '' : value.slice(equals + 1);
  if (key === '' || key.length > 512 || /[<>%&\\?/]/.test(key)) {
    throw new InvalidArgumentError(
      "Tags are key=value; a key is 1-512 characters without '<', '>', '%', '&', '\\', '?' or '/'.",
    );
  }
  return { ...previous, [key]: tagValue };
}

export function parsePositiveInteger(value: string): number {
  if (/^[1-9][0-9]{0,8}$/.test(value)) return Number(value);
  throw new InvalidArgumentError('Expected a whole number of 1 or more.');
}

/** ISO 8601 date or date-time; without a zone it is read as UTC, as `az` does. */
export function parseDateTime(value: string): Date {
  const match =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:\d{2})?)?$/i.exec(
      value,
    );
  const [, year, month, day, time, zone] = match ?? [];
  const calendarDay = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  const realDay =
    calendarDay.getUTCFullYear() === Number(year) &&
    calendarDay.getUTCMonth() === Number(month) - 1 &&
    calendarDay.getUTCDate() === Number(day);
  const parsed = Date.parse(`${year}-${month}-${day}T${time ?? '00:00'}${zone ?? 'Z'}`);
  if (match === null || !realDay || Number.isNaN(parsed)) {
    throw new InvalidArgumentError(
      'Expected an ISO 8601 date or date-time such as 2026-01-31 or 2026-01-31T08:00:00Z.',
    );
  }
  return new Date(parsed);
}

/** `az monitor activity-log` offsets: `##d##h`, e.g. `1d`, `6h`, `2d12h`. */
export function parseOffset(value: string): number {
  const match = /^(?:(\d{1,4})d)?(?:(\d{1,5})h)?$/i.exec(value);
  if (match === null || value === '') {
    throw new InvalidArgumentError(
      "Expected an offset in ##d##h form such as '6h', '1d' or '2d12h'.",
    );
  }
  const hours = Number(match[1] ?? 0) * 24 + Number(match[2] ?? 0);
  if (hours === 0) throw new InvalidArgumentError('The offset must be longer than zero.');
  return hours * 3_600_000;
}

/** The control plane's base URL: https only (tokens and secrets travel on it), no query. */
export function parseEndpoint(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(
      'Expected an https:// URL such as https://tether.example.com:8443.',
    );
  }
  if (url.protocol !== 'https:') {
    throw new InvalidArgumentError(
      `The control plane is reached over https only (credentials travel on it), not ${url.protocol.replace(':', '')}.`,
    );
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new InvalidArgumentError('Expected a base URL without credentials, query or fragment.');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
