// The Microsoft.Authorization/roleDefinitions resource: a custom role's PUT body, checked
// field by field, and the shape @azure/arm-authorization reads back.
import type { Permission, RoleDefinition } from '../rbac/types.js';
import {
  asObject,
  field,
  invalidContent,
  optionalString,
  rejectUnknownFields,
  requiredString,
  type JsonObject,
} from '../resources/arm-request.js';
import { parseScope, type ParsedScope } from '../resources/arm-scope.js';
import { roleDefinitionId } from './role-definition-id.js';

export const ROLE_DEFINITION_TYPE = 'Microsoft.Authorization/roleDefinitions';
const PERMISSION_FIELDS = ['actions', 'notActions', 'dataActions', 'notDataActions'] as const;
/** `Provider.Name/type/…/verb` with `*` wildcards; no spaces or other punctuation. */
const ACTION = /^[A-Za-z0-9_.*-]+(?:\/[A-Za-z0-9_.*-]+)*$/;
const MAX_ACTIONS = 1000;

export interface CustomRolePut {
  roleName: string;
  description: string;
  permissions: Permission[];
  assignableScopes: ParsedScope[];
}

export function parseCustomRolePut(body: JsonObject, name: string): CustomRolePut {
  rejectUnknownFields(body, ['properties', 'id', 'name', 'type'], '');
  const givenName = field(body, 'name');
  if (
    givenName !== undefined &&
    (typeof givenName !== 'string' || givenName.toLowerCase() !== name)
  ) {
    throw invalidContent(
      'name',
      `must be the role definition id in the URL ('${name}') when given`,
    );
  }
  const properties = asObject(field(body, 'properties'), 'properties');
  rejectUnknownFields(
    properties,
    [
      'roleName',
      'description',
      'type',
      'permissions',
      'assignableScopes',
      'createdOn',
      'updatedOn',
      'createdBy',
      'updatedBy',
    ],
    'properties',
  );
  const type = field(properties, 'type');
  if (type !== undefined && type !== null && type !== 'CustomRole') {
    throw invalidContent(
      'properties.type',
      "must be 'CustomRole': only custom roles can be created",
    );
  }
  const roleName = requiredString(properties, 'roleName', 'properties.roleName', 512).trim();
  if (roleName.length === 0) throw invalidContent('properties.roleName', 'is required');
  const description =
    optionalString(properties, 'description', 'properties.description', 2048) ?? '';
  const rawPermissions = field(properties, 'permissions');
  if (!Array.isArray(rawPermissions) || rawPermissions.length === 0) {
    throw invalidContent(
      'properties.permissions',
      'must be a non-empty array of {actions, notActions, dataActions, notDataActions}',
    );
  }
  const rawScopes = field(properties, 'assignableScopes');
  if (!Array.isArray(rawScopes) || rawScopes.length === 0) {
    throw invalidContent(
      'properties.assignableScopes',
      'must list at least one scope, e.g. ["/subscriptions/{subscriptionId}"]',
    );
  }
  const assignableScopes = rawScopes.map((s: unknown, i) => {
    if (typeof s !== 'string')
      throw invalidContent(`properties.assignableScopes[${i}]`, 'must be a string');
    return parseScope(s);
  });
  const unique = new Map(assignableScopes.map((s) => [s.scope, s]));
  return {
    roleName,
    description,
    permissions: rawPermissions.map((p: unknown, i) =>
      parsePermission(p, `properties.permissions[${i}]`),
    ),
    assignableScopes: [...unique.values()],
  };
}

function parsePermission(value: unknown, target: string): Permission {
  const block = asObject(value, target);
  rejectUnknownFields(block, PERMISSION_FIELDS, target);
  const permission: Permission = {
    actions: [],
    notActions: [],
    dataActions: [],
    notDataActions: [],
  };
  for (const name of PERMISSION_FIELDS) {
    const list = field(block, name);
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list) || list.length > MAX_ACTIONS) {
      throw invalidContent(
        `${target}.${name}`,
        `must be an array of at most ${MAX_ACTIONS} action strings`,
      );
    }
    permission[name] = list.map((action: unknown, i) => {
      if (typeof action !== 'string' || action.length > 512 || !ACTION.test(action)) {
        throw invalidContent(
          `${target}.${name}[${i}]`,
          `(${JSON.stringify(action)}) is not an action: expected e.g. "Microsoft.HybridCompute/machines/read" or "*/read"`,
        );
      }
      return action;
    });
  }
  if (permission.actions.length === 0 && permission.dataActions.length === 0) {
    throw invalidContent(`${target}.actions`, 'must grant at least one action');
  }
  return permission;
}

export interface RoleDefinitionDates {
  createdOn: string;
  updatedOn: string;
}

export function renderRoleDefinition(
  scope: ParsedScope | string,
  role: RoleDefinition,
  dates?: RoleDefinitionDates,
): JsonObject {
  return {
    id: roleDefinitionId(scope, role.name),
    type: ROLE_DEFINITION_TYPE,
    name: role.name,
    properties: {
      roleName: role.roleName,
      description: role.description,
      type: role.roleType,
      permissions: role.permissions,
      assignableScopes: role.assignableScopes,
      ...(dates ?? {}),
    },
  };
}
