// Ids of principals, roles and assignments are GUIDs, which ARM compares without regard to
// case: the engine indexes them case-folded and keeps each one as it was given.
import type { RbacErrorCode } from './rbac-error.js';
import { RbacError } from './rbac-error.js';
import type { PrincipalType } from './types.js';

const ID_PATTERN = /^[^\s/\\?#%\p{Cc}]{1,128}$/u;

export function idKey(id: string): string {
  return id.toLowerCase();
}

/** Throws `code` naming `field` unless `value` is a plausible id (a GUID or similar token). */
export function checkId(value: unknown, field: string, code: RbacErrorCode): string {
  if (typeof value === 'string' && ID_PATTERN.test(value)) return value;
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : String(value);
  throw new RbacError(
    code,
    `${field} ${shown} is not valid: expected an id (a GUID) of 1–128 characters without whitespace, "/", "\\", "?", "#" or "%"`,
    { target: field },
  );
}

const PRINCIPAL_TYPES: ReadonlySet<unknown> = new Set<PrincipalType>([
  'User',
  'Group',
  'ServicePrincipal',
]);

export function checkPrincipalType(value: unknown, code: RbacErrorCode): PrincipalType {
  if (PRINCIPAL_TYPES.has(value)) return value as PrincipalType;
  throw new RbacError(
    code,
    `principalType ${JSON.stringify(value)} is not valid: expected User, Group or ServicePrincipal`,
    { target: 'principalType' },
  );
}
