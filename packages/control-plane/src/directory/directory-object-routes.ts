// `POST /v1.0/directoryObjects/getByIds`: users, groups and service principals by object id,
// whatever their kind, as `az role assignment` resolves the principals it shows or assigns.
import type { RouteSpec } from '../api/route-spec.js';
import type { PrincipalType } from '../rbac/types.js';
import { DIRECTORY_ACTIONS, DIRECTORY_SCOPE } from '../rbac/directory-actions.js';
import { invalidInput } from './directory-error.js';
import type { DirectoryRouteServices } from './directory-route-services.js';
import { bodyOf } from './directory-input.js';
import { memberObject } from './graph-objects.js';

/** Graph's own ceiling on one call. */
export const MAX_IDS = 1000;

/** Each kind Tether's directory holds, by its Graph type name, with the action to read it. */
const KINDS: Record<string, { type: PrincipalType; action: string }> = {
  user: { type: 'User', action: DIRECTORY_ACTIONS.usersRead },
  group: { type: 'Group', action: DIRECTORY_ACTIONS.groupsRead },
  serviceprincipal: { type: 'ServicePrincipal', action: DIRECTORY_ACTIONS.servicePrincipalsRead },
};

/** Graph types a client may ask for that this directory holds none of: they match nothing. */
const OTHER_TYPES = ['application', 'device', 'orgcontact', 'directoryobjectpartnerreference'];

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function directoryObjectRoutes(services: DirectoryRouteServices): RouteSpec[] {
  const { directory } = services;
  return [
    {
      method: 'POST',
      url: '/v1.0/directoryObjects/getByIds',
      // The kinds asked for decide which read actions are needed, so each is demanded below.
      access: { kind: 'authenticated' },
      async handler(context) {
        const { request } = context;
        const body = bodyOf(request.body, ['ids', 'types']);
        const ids = idsOf(body['ids']);
        const kinds = kindsOf(body['types']);
        for (const kind of kinds) await context.demand(kind.action, DIRECTORY_SCOPE);
        const wanted = new Set(kinds.map((k) => k.type));
        const found = await directory.store.principalsByIds(ids);
        return {
          value: found.filter((p) => wanted.has(p.type)).map((p) => memberObject(p)),
        };
      },
    },
  ];
}

function idsOf(value: unknown): string[] {
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.length > MAX_IDS ||
    !value.every((id): id is string => typeof id === 'string' && GUID.test(id))
  ) {
    throw invalidInput(
      'ids',
      `Property 'ids' must be a list of 1 to ${MAX_IDS} object ids (GUIDs).`,
    );
  }
  return [...new Set(value.map((id) => id.toLowerCase()))];
}

function kindsOf(value: unknown): { type: PrincipalType; action: string }[] {
  if (value === undefined) return Object.values(KINDS);
  const accepted = ['user', 'group', 'servicePrincipal', 'directoryObject', ...OTHER_TYPES];
  if (!Array.isArray(value) || !value.every((t): t is string => typeof t === 'string')) {
    throw invalidInput('types', `Property 'types' must be a list of ${accepted.join(', ')}.`);
  }
  const kinds = new Set<{ type: PrincipalType; action: string }>();
  for (const name of value) {
    const key = name.toLowerCase();
    const kind = KINDS[key];
    if (kind !== undefined) kinds.add(kind);
    else if (key === 'directoryobject') Object.values(KINDS).forEach((k) => kinds.add(k));
    else if (!OTHER_TYPES.includes(key)) {
      throw invalidInput(
        'types',
        `Type '${name.slice(0, 60)}' in 'types' is not a directory object type; use ${accepted.join(', ')}.`,
      );
    }
  }
  return [...kinds];
}
