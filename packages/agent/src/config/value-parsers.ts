// Parsers for the text an administrator types after `azcmagent config set <property>`; each
// returns the canonical value or throws an error naming the property, the value and what fits.
import { AgentError } from '../errors.js';

function invalid(property: string, text: string, expected: string): AgentError {
  return new AgentError(
    'ERR_INVALID_VALUE',
    `Invalid value "${text}" for ${property}: ${expected}.`,
    { target: property },
  );
}

/** Only true/false (any case): "yes", "1" or "on" are more likely mistakes than intent. */
export function parseBoolean(property: string, text: string): boolean {
  const lower = text.trim().toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw invalid(property, text, 'expected true or false');
}

export function parseIntegerInRange(
  property: string,
  text: string,
  min: number,
  max: number,
  what: string,
): number {
  const trimmed = text.trim();
  const value = /^[0-9]{1,6}$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(property, text, `expected ${what}, a whole number from ${min} to ${max}`);
  }
  return value;
}

export function parsePort(property: string, text: string): number {
  return parseIntegerInRange(property, text, 1, 65535, 'a port number');
}

/** Case-insensitive choice; returns the canonical spelling. */
export function parseChoice<T extends string>(
  property: string,
  text: string,
  choices: readonly T[],
): T {
  const lower = text.trim().toLowerCase();
  const match = choices.find((choice) => choice.toLowerCase() === lower);
  if (match === undefined) throw invalid(property, text, `expected one of ${choices.join(', ')}`);
  return match;
}

/** An http(s) proxy URL without credentials, path, query or fragment. */
export function parseProxyUrl(property: string, text: string): string {
  const trimmed = text.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw invalid(property, text, 'expected a URL such as http://proxy.example.com:8080');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(
      property,
      text,
      `the scheme must be http or https, not ${url.protocol.slice(0, -1)}`,
    );
  }
  if (url.hostname === '') throw invalid(property, text, 'the URL has no host');
  if (url.username !== '' || url.password !== '') {
    // localconfig.json is world-readable, so a password in it would be readable by every user.
    throw invalid(property, text, 'credentials in the proxy URL are not supported');
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw invalid(
      property,
      text,
      'expected only scheme, host and port (no path, query or fragment)',
    );
  }
  return trimmed;
}
