// Reads `role definition create --role-definition` as `az` does: inline JSON or @file, with
// az's keys (Name, Description, Actions, NotActions, DataActions, NotDataActions,
// AssignableScopes) matched case-insensitively; anything else is refused by name.
import { readFile } from 'node:fs/promises';
import { isRecord } from './api-error.js';
import { usageError } from './cli-error.js';
import { parseScope } from './scope.js';

export interface RoleDefinitionInput {
  roleName: string;
  description: string;
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
  assignableScopes: string[];
}

const FLAG = '--role-definition';
const KEYS = [
  'name',
  'rolename',
  'description',
  'actions',
  'notactions',
  'dataactions',
  'notdataactions',
  'assignablescopes',
  'iscustom',
];
const SHOWN_KEYS =
  'Name, Description, Actions, NotActions, DataActions, NotDataActions, AssignableScopes, IsCustom';

export async function readRoleDefinitionInput(argument: string): Promise<RoleDefinitionInput> {
  let text = argument;
  if (argument.startsWith('@')) {
    try {
      text = await readFile(argument.slice(1), 'utf8');
    } catch (error) {
      throw usageError(
        `${FLAG} file '${argument.slice(1)}' cannot be read: ${(error as Error).message}.`,
        FLAG,
      );
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw usageError(
      `${FLAG} is not valid JSON (${(error as Error).message}); give JSON inline or @file.`,
      FLAG,
    );
  }
  if (!isRecord(value)) throw usageError(`${FLAG} must be a JSON object with ${SHOWN_KEYS}.`, FLAG);
  const fields = new Map<string, unknown>();
  for (const [key, field] of Object.entries(value)) {
    const lower = key.toLowerCase();
    if (!KEYS.includes(lower)) {
      throw usageError(`${FLAG} has the unknown key '${key}'; accepted keys: ${SHOWN_KEYS}.`, FLAG);
    }
    fields.set(lower === 'rolename' ? 'name' : lower, field);
  }
  if (fields.has('iscustom') && fields.get('iscustom') !== true) {
    throw usageError(`${FLAG} IsCustom must be true: only custom roles can be created.`, FLAG);
  }
  const roleName = fields.get('name');
  if (typeof roleName !== 'string' || roleName.trim() === '') {
    throw usageError(`${FLAG} needs "Name", the role's name.`, FLAG);
  }
  const description = fields.get('description') ?? '';
  if (typeof description !== 'string')
    throw usageError(`${FLAG} "Description" must be a string.`, FLAG);
  const assignableScopes = strings(fields, 'assignablescopes', 'AssignableScopes');
  if (assignableScopes.length === 0) {
    throw usageError(`${FLAG} needs "AssignableScopes", such as ["/subscriptions/{id}"].`, FLAG);
  }
  const actions = strings(fields, 'actions', 'Actions');
  const dataActions = strings(fields, 'dataactions', 'DataActions');
  if (actions.length === 0 && dataActions.length === 0) {
    throw usageError(
      `${FLAG} grants nothing: give "Actions" such as ["Microsoft.HybridCompute/machines/read"].`,
      FLAG,
    );
  }
  return {
    roleName,
    description,
    actions,
    notActions: strings(fields, 'notactions', 'NotActions'),
    dataActions,
    notDataActions: strings(fields, 'notdataactions', 'NotDataActions'),
    assignableScopes: assignableScopes.map((scope) =>
      parseScope(scope, `${FLAG} AssignableScopes`),
    ),
  };
}

function strings(fields: Map<string, unknown>, key: string, shown: string): string[] {
  const value = fields.get(key) ?? [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
    throw usageError(`${FLAG} "${shown}" must be a list of non-empty strings.`, FLAG);
  }
  return value as string[];
}
