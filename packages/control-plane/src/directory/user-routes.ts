// `/v1.0/users` and `/v1.0/me`: people as principals. They hold role assignments and group
// memberships, and sign in with a password an administrator sets and they can change.
import type { FastifyRequest } from 'fastify';
import type { Caller } from '../api/caller.js';
import type { RouteAccess, RouteSpec } from '../api/route-spec.js';
import { DIRECTORY_ACTIONS, DIRECTORY_SCOPE } from '../rbac/directory-actions.js';
import type { DirectoryRouteServices } from './directory-route-services.js';
import { ArmError } from '../api/arm-error.js';
import {
  bodyOf,
  displayName,
  nestedBody,
  objectId,
  userPrincipalName,
  type Body,
} from './directory-input.js';
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
          prefix: query.filter.op === 'startswith',
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
        const body = bodyOf(request.body, [
          'displayName',
          'userPrincipalName',
          'passwordProfile',
          'accountEnabled',
          'mailNickname',
        ]);
        if (body['accountEnabled'] !== undefined && body['accountEnabled'] !== true) {
          throw new ArmError(
            'InvalidRequestContent',
            "'accountEnabled' may only be true: every user here can sign in while they exist; delete the user to stop that.",
            { target: 'accountEnabled' },
          );
        }
        const user = await directory.createUser(
          displayName(body['displayName']),
          userPrincipalName(body['userPrincipalName']),
          passwordOf(body),
        );
        void reply.code(201);
        return userObject(user);
      },
    },
    {
      method: 'PATCH',
      url: `${BASE}/:id`,
      access: access(DIRECTORY_ACTIONS.usersWrite),
      async handler({ request, reply }) {
        const body = bodyOf(request.body, ['passwordProfile']);
        const password = passwordOf(body);
        if (password === undefined) {
          throw new ArmError(
            'InvalidRequestContent',
            '\'passwordProfile\' is missing: send {"passwordProfile":{"password":"…"}} to set the user\'s password.',
            { target: 'passwordProfile' },
          );
        }
        await directory.passwords.set(idParam(request), password, 'passwordProfile.password');
        void reply.code(204);
        return undefined;
      },
    },
    {
      method: 'GET',
      url: '/v1.0/me',
      access: { kind: 'authenticated' },
      handler: async ({ caller }) => userObject(await directory.get('User', signedInUser(caller))),
    },
    {
      method: 'POST',
      url: '/v1.0/me/changePassword',
      access: { kind: 'authenticated' },
      operationName: 'Microsoft.Authorization/directory/users/changePassword/action',
      async handler({ request, reply, caller }) {
        const body = bodyOf(request.body, ['currentPassword', 'newPassword']);
        await directory.passwords.change(
          signedInUser(caller),
          body['currentPassword'],
          body['newPassword'],
          request.ip,
        );
        void reply.code(204);
        return undefined;
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

/** Graph's `passwordProfile.password`; a forced change at next sign-in is not offered. */
function passwordOf(body: Body): unknown {
  if (body['passwordProfile'] === undefined) return undefined;
  const profile = nestedBody(body, 'passwordProfile', [
    'password',
    'forceChangePasswordNextSignIn',
    'forceChangePasswordNextSignInWithMfa',
  ]);
  for (const flag of ['forceChangePasswordNextSignIn', 'forceChangePasswordNextSignInWithMfa']) {
    if (profile[flag] !== undefined && profile[flag] !== false) {
      throw new ArmError(
        'InvalidRequestContent',
        `'passwordProfile.${flag}' may only be false: this server does not force a change at the next sign-in; users change their password with POST /v1.0/me/changePassword.`,
        { target: `passwordProfile.${flag}` },
      );
    }
  }
  if (profile['password'] === undefined) {
    throw new ArmError(
      'InvalidRequestContent',
      "'passwordProfile.password' is missing: a password profile must carry the password.",
      { target: 'passwordProfile.password' },
    );
  }
  return profile['password'];
}

/** The caller's object id when the caller is a person; a service principal has no `me` here. */
function signedInUser(caller: Caller | undefined): string {
  if (caller?.principalType !== 'User') {
    throw new ArmError(
      'BadRequest',
      `/v1.0/me is about a signed-in user; '${caller?.name ?? 'anonymous'}' is a ${caller?.principalType ?? 'caller without a token'}.`,
    );
  }
  return caller.principalId;
}
