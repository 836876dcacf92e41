// `/v1.0/users`: people as principals. They hold role assignments and group memberships;
// Tether issues tokens only to service principals, so users carry no credentials here.
import type { FastifyRequest } from 'fastify';
import type { RouteAccess, RouteSpec } from '../api/route-spec.js';
import { DIRECTORY_ACTIONS, DIRECTORY_SCOPE } from '../rbac/directory-actions.js';
import type { DirectoryRouteServices } from './directory-route-services.js';
import { bodyOf, displayName, objectId, userPrincipalName } from './directory-input.js';
import { userObject } from './graph-objects.js';
import { listPage, parseListQuery } from './list-query.js';

const BASE = '/v1.0/users';

const access = (action: string): RouteAccess => ({
  kind: 'action',
  action,
  scope: () => DIRECTORY_SCOPE,
});

export function userRoutes(services: DirectoryRouteServices): RouteSpec[] {
  const { directory } = services;
  return [
    {
      method: 'GET',
      url: BASE,
      access: access(DIRECTORY_ACTIONS.usersRead),
      async handler({ request }) {
        const query = parseListQuery(request.query, ['displayName', 'userPrincipalName'] as const);
        const filter = query.filter && {
          column:
            query.filter.field === 'userPrincipalName'
              ? ('user_principal_name' as const)
              : ('display_name' as const),
          value:
            query.filter.field === 'userPrincipalName'
              ? query.filter.value.toLowerCase()
              : query.filter.value,
        };
        const rows = await directory.store.listPrincipals({
          type: 'User',
          filter,
          after: query.skipToken,
          limit: query.top,
        });
        return listPage(rows, rows.map(userObject), query, `${services.publicUrl}${BASE}`);
      },
    },
    {
      method: 'GET',
      url: `${BASE}/:id`,
      access: access(DIRECTORY_ACTIONS.usersRead),
      handler: async ({ request }) => userObject(await directory.get('User', idParam(request))),
    },
    {
      method: 'POST',
      url: BASE,
      access: access(DIRECTORY_ACTIONS.usersWrite),
      async handler({ request, reply }) {
        const body = bodyOf(request.body, ['displayName', 'userPrincipalName']);
        const user = await directory.createUser(
          displayName(body['displayName']),
          userPrincipalName(body['userPrincipalName']),
        );
        void reply.code(201);
        return userObject(user);
      },
    },
    {
      method: 'DELETE',
      url: `${BASE}/:id`,
      access: access(DIRECTORY_ACTIONS.usersDelete),
      async handler({ request, reply }) {
        await directory.delete('User', idParam(request));
        void reply.code(204);
        return undefined;
      },
    },
  ];
}

function idParam(request: FastifyRequest): string {
  return objectId((request.params as Record<string, string | undefined>)['id']);
}
