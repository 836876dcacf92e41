// `/v1.0/servicePrincipals`: service principals and their password and certificate
// credentials, shaped as Microsoft Graph answers them.
import type { FastifyRequest } from 'fastify';
import type { RouteAccess, RouteSpec } from '../api/route-spec.js';
import { DIRECTORY_ACTIONS, DIRECTORY_SCOPE } from '../rbac/directory-actions.js';
import { DEFAULT_PASSWORD_LIFETIME_MS, MAX_CREDENTIAL_LIFETIME_MS } from './credential-factory.js';
import type { DirectoryRouteServices } from './directory-route-services.js';
import {
  bodyOf,
  replyUrls,
  displayName,
  endDateTime,
  invalid,
  nestedBody,
  objectId,
  optionalText,
} from './directory-input.js';
import { keyCredentialObject, servicePrincipalObject } from './graph-objects.js';
import { listPage, parseListQuery } from './list-query.js';

const BASE = '/v1.0/servicePrincipals';

const access = (action: string): RouteAccess => ({
  kind: 'action',
  action,
  scope: () => DIRECTORY_SCOPE,
});
const READ = access(DIRECTORY_ACTIONS.servicePrincipalsRead);
const WRITE = access(DIRECTORY_ACTIONS.servicePrincipalsWrite);
const DELETE = access(DIRECTORY_ACTIONS.servicePrincipalsDelete);

export function servicePrincipalRoutes(services: DirectoryRouteServices): RouteSpec[] {
  const { directory, clock } = services;
  const show = async (id: string) => {
    const principal = await directory.get('ServicePrincipal', id);
    return servicePrincipalObject(principal, await directory.store.credentials(principal.id));
  };
  return [
    {
      method: 'GET',
      url: BASE,
      access: READ,
      async handler({ request }) {
        // A service principal's names are its appId alone here (no identifier URIs), so
        // `servicePrincipalNames/any(c:c eq '…')`, how `az role` finds an assignee, is the appId.
        const query = parseListQuery(
          request.query,
          ['displayName', 'appId', 'servicePrincipalNames'] as const,
          ['servicePrincipalNames'] as const,
        );
        const byApp = query.filter !== undefined && query.filter.field !== 'displayName';
        const filter = query.filter && {
          column: byApp ? ('app_id' as const) : ('display_name' as const),
          value: byApp ? query.filter.value.toLowerCase() : query.filter.value,
          prefix: query.filter.op === 'startswith',
        };
        const rows = await directory.store.listPrincipals({
          type: 'ServicePrincipal',
          filter,
          after: query.skipToken,
          limit: query.top,
        });
        const shown = await Promise.all(
          rows.map(async (p) => servicePrincipalObject(p, await directory.store.credentials(p.id))),
        );
        return listPage(rows, shown, query, `${services.publicUrl}${BASE}`);
      },
    },
    {
      method: 'GET',
      url: `${BASE}/:id`,
      access: READ,
      handler: ({ request }) => show(idParam(request)),
    },
    {
      method: 'POST',
      url: BASE,
      access: WRITE,
      async handler({ request, reply }) {
        const body = bodyOf(request.body, ['displayName', 'replyUrls']);
        const principal = await directory.createServicePrincipal(
          displayName(body['displayName']),
          body['replyUrls'] === undefined ? undefined : replyUrls(body['replyUrls']),
        );
        void reply.code(201);
        return servicePrincipalObject(principal, []);
      },
    },
    {
      method: 'PATCH',
      url: `${BASE}/:id`,
      access: WRITE,
      async handler({ request, reply }) {
        const body = bodyOf(request.body, ['replyUrls']);
        await directory.setReplyUrls(idParam(request), replyUrls(body['replyUrls']));
        void reply.code(204);
        return undefined;
      },
    },
    {
      method: 'DELETE',
      url: `${BASE}/:id`,
      access: DELETE,
      async handler({ request, reply }) {
        await directory.delete('ServicePrincipal', idParam(request));
        void reply.code(204);
        return undefined;
      },
    },
    {
      method: 'POST',
      url: `${BASE}/:id/addPassword`,
      access: WRITE,
      async handler({ request }) {
        const body = bodyOf(request.body ?? {}, ['passwordCredential']);
        const input = nestedBody(body, 'passwordCredential', ['displayName', 'endDateTime']);
        const now = clock.now();
        const end = endDateTime(
          input['endDateTime'],
          now,
          DEFAULT_PASSWORD_LIFETIME_MS,
          MAX_CREDENTIAL_LIFETIME_MS,
          'passwordCredential.endDateTime',
        );
        const name =
          optionalText(input['displayName'], 'passwordCredential.displayName', 256) ?? '';
        const { row, secretText } = await directory.addPassword(idParam(request), name, end);
        return {
          keyId: row.id,
          displayName: row.display_name,
          secretText,
          hint: row.secret_hint,
          startDateTime: row.starts_at,
          endDateTime: row.expires_at,
        };
      },
    },
    {
      method: 'POST',
      url: `${BASE}/:id/removePassword`,
      access: WRITE,
      async handler({ request, reply }) {
        const body = bodyOf(request.body, ['keyId']);
        await directory.removeCredential(
          idParam(request),
          objectId(body['keyId'], 'keyId'),
          'password',
        );
        void reply.code(204);
        return undefined;
      },
    },
    {
      method: 'POST',
      url: `${BASE}/:id/addKey`,
      access: WRITE,
      async handler({ request }) {
        const body = bodyOf(request.body, ['keyCredential']);
        const input = nestedBody(body, 'keyCredential', [
          'displayName',
          'key',
          'endDateTime',
          'type',
          'usage',
        ]);
        const key = input['key'];
        if (typeof key !== 'string' || key.trim() === '') {
          throw invalid('keyCredential.key', key, 'expected a PEM certificate');
        }
        for (const [field, only] of [
          ['type', 'AsymmetricX509Cert'],
          ['usage', 'Verify'],
        ] as const) {
          if (input[field] !== undefined && input[field] !== only) {
            throw invalid(
              `keyCredential.${field}`,
              input[field],
              `the only value accepted is '${only}'`,
            );
          }
        }
        const now = clock.now();
        const end =
          input['endDateTime'] === undefined
            ? undefined
            : endDateTime(
                input['endDateTime'],
                now,
                0,
                MAX_CREDENTIAL_LIFETIME_MS,
                'keyCredential.endDateTime',
              );
        const name = optionalText(input['displayName'], 'keyCredential.displayName', 256) ?? '';
        return keyCredentialObject(await directory.addKey(idParam(request), name, key, end));
      },
    },
    {
      method: 'POST',
      url: `${BASE}/:id/removeKey`,
      access: WRITE,
      async handler({ request, reply }) {
        const body = bodyOf(request.body, ['keyId']);
        await directory.removeCredential(
          idParam(request),
          objectId(body['keyId'], 'keyId'),
          'certificate',
        );
        void reply.code(204);
        return undefined;
      },
    },
  ];
}

function idParam(request: FastifyRequest): string {
  return objectId((request.params as Record<string, string | undefined>)['id']);
}
