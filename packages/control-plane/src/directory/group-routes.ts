// `/v1.0/groups` and their members: a member (user, service principal or group) inherits
// every role assignment of the group.
import type { FastifyRequest } from 'fastify';
import type { RouteAccess, RouteSpec } from '../api/route-spec.js';
import { DIRECTORY_ACTIONS, DIRECTORY_SCOPE } from '../rbac/directory-actions.js';
import type { DirectoryRouteServices } from './directory-route-services.js';
import { bodyOf, displayName, invalid, objectId, optionalText } from './directory-input.js';
import { groupObject, memberObject } from './graph-objects.js';
import { listPage, parseListQuery } from './list-query.js';

const BASE = '/v1.0/groups';

const access = (action: string): RouteAccess => ({
  kind: 'action',
  action,
  scope: () => DIRECTORY_SCOPE,
});
const READ = access(DIRECTORY_ACTIONS.groupsRead);
const MEMBERS_WRITE = access(DIRECTORY_ACTIONS.groupMembersWrite);

export function groupRoutes(services: DirectoryRouteServices): RouteSpec[] {
  const { directory } = services;
  return [
    {
      method: 'GET',
      url: BASE,
      access: READ,
      async handler({ request }) {
        const query = parseListQuery(request.query, ['displayName'] as const);
        const rows = await directory.store.listPrincipals({
          type: 'Group',
          filter: query.filter && {
            column: 'display_name',
            value: query.filter.value,
            prefix: query.filter.op === 'startswith',
          },
          after: query.skipToken,
          limit: query.top,
        });
        return listPage(rows, rows.map(groupObject), query, `${services.publicUrl}${BASE}`);
      },
    },
    {
      method: 'GET',
      url: `${BASE}/:id`,
      access: READ,
      handler: async ({ request }) =>
        groupObject(await directory.get('Group', param(request, 'id'))),
    },
    {
      method: 'POST',
      url: BASE,
      access: access(DIRECTORY_ACTIONS.groupsWrite),
      async handler({ request, reply }) {
        const body = bodyOf(request.body, ['displayName', 'description']);
        const group = await directory.createGroup(
          displayName(body['displayName']),
          optionalText(body['description'], 'description'),
        );
        void reply.code(201);
        return groupObject(group);
      },
    },
    {
      method: 'DELETE',
      url: `${BASE}/:id`,
      access: access(DIRECTORY_ACTIONS.groupsDelete),
      async handler({ request, reply }) {
        await directory.delete('Group', param(request, 'id'));
        void reply.code(204);
        return undefined;
      },
    },
    {
      method: 'GET',
      url: `${BASE}/:id/members`,
      access: READ,
      async handler({ request }) {
        const group = await directory.get('Group', param(request, 'id'));
        return { value: (await directory.store.members(group.id)).map(memberObject) };
      },
    },
    {
      method: 'POST',
      url: `${BASE}/:id/members/$ref`,
      access: MEMBERS_WRITE,
      async handler({ request, reply }) {
        const body = bodyOf(request.body, ['@odata.id']);
        await directory.addMember(param(request, 'id'), memberIdOf(body['@odata.id']));
        void reply.code(204);
        return undefined;
      },
    },
    {
      method: 'DELETE',
      url: `${BASE}/:id/members/:memberId/$ref`,
      access: MEMBERS_WRITE,
      async handler({ request, reply }) {
        await directory.removeMember(param(request, 'id'), param(request, 'memberId'));
        void reply.code(204);
        return undefined;
      },
    },
  ];
}

function param(request: FastifyRequest, name: string): string {
  return objectId((request.params as Record<string, string | undefined>)[name], name);
}

/** `https://…/v1.0/directoryObjects/{id}` (any host: Graph clients name graph.microsoft.com). */
function memberIdOf(reference: unknown): string {
  const match =
    typeof reference === 'string' ? /\/directoryObjects\/([^/?#]+)\/?$/i.exec(reference) : null;
  if (match?.[1] === undefined) {
    throw invalid('@odata.id', reference, "expected '…/v1.0/directoryObjects/{id}'");
  }
  return objectId(match[1], '@odata.id');
}
