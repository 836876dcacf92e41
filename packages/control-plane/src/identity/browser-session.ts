// What the sign-in pages set and check in the browser: the session cookie (only its hash is
// stored), a CSRF token bound to a cookie, and headers that forbid framing, script and caching.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { newOpaqueToken } from './opaque-token.js';
import { STYLE_HASH } from './sign-in-page.js';

export const SESSION_COOKIE = 'tether_session';
export const CSRF_COOKIE = 'tether_csrf';
export const SESSION_LIFETIME_MS = 12 * 3600_000;

export function cookies(request: FastifyRequest): Map<string, string> {
  const found = new Map<string, string>();
  for (const part of String(request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0) found.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  return found;
}

/** Secure, HttpOnly, scoped to the tenant's OAuth paths. */
export function setCookie(
  reply: FastifyReply,
  name: string,
  value: string,
  path: string,
  maxAgeSeconds: number,
  sameSite: 'Lax' | 'Strict',
): void {
  const cookie = `${name}=${value}; Path=${path}; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=${sameSite}`;
  const existing = reply.getHeader('set-cookie');
  const list = Array.isArray(existing)
    ? existing
    : existing === undefined
      ? []
      : [String(existing)];
  void reply.header('set-cookie', [...list, cookie]);
}

/** A CSRF token for the page, the same value set as a cookie the form post must carry back. */
export function issueCsrf(reply: FastifyReply, path: string, request: FastifyRequest): string {
  const current = cookies(request).get(CSRF_COOKIE);
  const token =
    current !== undefined && /^[A-Za-z0-9_-]{43}$/.test(current) ? current : newOpaqueToken();
  setCookie(reply, CSRF_COOKIE, token, path, 3600, 'Strict');
  return token;
}

export function csrfValid(request: FastifyRequest, submitted: string | undefined): boolean {
  const cookie = cookies(request).get(CSRF_COOKIE);
  if (cookie === undefined || submitted === undefined) return false;
  const a = Buffer.from(cookie);
  const b = Buffer.from(submitted);
  return a.length === 32 + 11 && a.length === b.length && timingSafeEqual(a, b);
}

/** Headers of every sign-in page; `formTargets` are the origins a form post may redirect to. */
export function pageHeaders(reply: FastifyReply, formTargets: readonly string[] = []): void {
  const csp = [
    "default-src 'none'",
    `style-src ${STYLE_HASH}`,
    `form-action 'self'${formTargets.map((t) => ` ${t}`).join('')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  void reply
    .type('text/html; charset=utf-8')
    .header('content-security-policy', csp)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .header('strict-transport-security', 'max-age=31536000');
}
