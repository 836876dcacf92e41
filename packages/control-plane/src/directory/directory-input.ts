// Checks of directory request bodies: each refusal names the field, the value and what is
// accepted, and is raised before anything is written.
import { invalidInput } from './directory-error.js';

export type Body = Record<string, unknown>;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UPN = /^[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/** The body as an object with only `allowed` keys (`@odata.type` is tolerated, as Graph does). */
export function bodyOf(raw: unknown, allowed: readonly string[]): Body {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalidInput('body', 'The request body must be a JSON object.');
  }
  const body = raw as Body;
  for (const key of Object.keys(body)) {
    if (key !== '@odata.type' && !allowed.includes(key)) {
      throw invalidInput(
        key,
        `Property '${key}' is not accepted here; the accepted properties are ${allowed.map((a) => `'${a}'`).join(', ')}.`,
      );
    }
  }
  return body;
}

/** A nested object property such as `passwordCredential`; absent means empty. */
export function nestedBody(body: Body, key: string, allowed: readonly string[]): Body {
  const value = body[key];
  if (value === undefined) return {};
  try {
    return bodyOf(value, allowed);
  } catch {
    throw invalidInput(
      key,
      `Property '${key}' must be an object with only ${allowed.map((a) => `'${a}'`).join(', ')}.`,
    );
  }
}

export function displayName(value: unknown, target = 'displayName'): string {
  if (
    typeof value !== 'string' ||
    value.trim() === '' ||
    value.length > 256 ||
    hasControlCharacter(value, false)
  ) {
    throw invalid(target, value, 'expected 1–256 characters without control characters');
  }
  return value.trim();
}

export function optionalText(value: unknown, target: string, max = 1024): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > max || hasControlCharacter(value, true)) {
    throw invalid(target, value, `expected text of at most ${max} characters`);
  }
  return value;
}

export function userPrincipalName(value: unknown): string {
  if (typeof value !== 'string' || value.length > 113 || !UPN.test(value)) {
    throw invalid('userPrincipalName', value, 'expected an address such as alice@contoso.com');
  }
  return value.toLowerCase();
}

/** An object id from a path or body: a GUID, case-folded. */
export function objectId(value: unknown, target = 'id'): string {
  if (typeof value !== 'string' || !GUID.test(value)) {
    throw invalid(target, value, 'expected an object id (a GUID)');
  }
  return value.toLowerCase();
}

/**
 * An `endDateTime`: defaults to `defaultMs` after now, must lie in the future and at most
 * `maxMs` after now; returned as milliseconds.
 */
export function endDateTime(
  value: unknown,
  now: number,
  defaultMs: number,
  maxMs: number,
  target = 'endDateTime',
): number {
  if (value === undefined || value === null) return now + defaultMs;
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  const days = Math.round(maxMs / 86_400_000);
  if (typeof value !== 'string' || Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    throw invalid(target, value, 'expected an ISO 8601 date and time such as 2027-01-31T00:00:00Z');
  }
  if (ms <= now) {
    throw invalid(target, value, 'it is in the past; a credential must expire in the future');
  }
  if (ms > now + maxMs) {
    throw invalid(
      target,
      value,
      `it is too far ahead; a credential may be valid for at most ${days} days`,
    );
  }
  return ms;
}

/** `'field' is missing: …` or `'field' ("value") is not valid: …`. */
export function invalid(target: string, value: unknown, why: string): Error {
  if (value === undefined) return invalidInput(target, `'${target}' is missing: ${why}.`);
  const text =
    typeof value === 'string'
      ? JSON.stringify(value.slice(0, 120))
      : (JSON.stringify(value) ?? typeof value);
  return invalidInput(target, `'${target}' (${text.slice(0, 140)}) is not valid: ${why}.`);
}

/** C0 controls and DEL; tab and line breaks pass when `allowWhitespace` (free text). */
function hasControlCharacter(text: string, allowWhitespace: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const whitespace = code === 0x09 || code === 0x0a || code === 0x0d;
    if ((code < 0x20 || code === 0x7f) && !(allowWhitespace && whitespace)) return true;
  }
  return false;
}

/** Where a web app's people may be sent after signing in (Graph `replyUrls`). */
export function replyUrls(value: unknown): string[] {
  const why =
    'expected at most 32 absolute https URLs (or http://localhost ones) without a fragment, each at most 512 characters';
  if (!Array.isArray(value) || value.length > 32) throw invalid('replyUrls', value, why);
  return value.map((entry, index) => {
    let url: URL | undefined;
    try {
      url = typeof entry === 'string' && entry.length <= 512 ? new URL(entry) : undefined;
    } catch {
      url = undefined;
    }
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url?.hostname ?? '');
    if (
      url === undefined ||
      url.hash !== '' ||
      url.username !== '' ||
      !(url.protocol === 'https:' || (url.protocol === 'http:' && loopback))
    ) {
      throw invalid(`replyUrls[${index}]`, entry, why);
    }
    return entry as string;
  });
}
