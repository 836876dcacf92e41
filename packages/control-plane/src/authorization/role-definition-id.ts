// Role definition ids as ARM spells them (`[/subscriptions/{s}]/providers/Microsoft.Authorization/
// roleDefinitions/{guid}`), in both directions.
import { checkGuid } from '../resources/arm-names.js';
import { invalidContent } from '../resources/arm-request.js';
import type { ParsedScope } from '../resources/arm-scope.js';
import { subscriptionPrefix } from './scoped-routes.js';

const ROLE_DEFINITION_ID =
  /^(?:\/subscriptions\/([^/]+))?\/providers\/Microsoft\.Authorization\/roleDefinitions\/([^/]+)$/i;

export function roleDefinitionId(scope: ParsedScope | string, name: string): string {
  return `${subscriptionPrefix(scope)}/providers/Microsoft.Authorization/roleDefinitions/${name}`;
}

/**
 * The role's GUID from a full role definition id. A subscription in the id must be the one
 * the assignment is made in: a role id from elsewhere is a mistake, not a wish.
 */
export function parseRoleDefinitionId(value: string, scope: ParsedScope, target: string): string {
  const match = ROLE_DEFINITION_ID.exec(value.replace(/^\/\//, '/'));
  if (match === null) {
    throw invalidContent(
      target,
      `('${value.slice(0, 200)}') is not a role definition id; expected /subscriptions/{subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/{roleId} or /providers/Microsoft.Authorization/roleDefinitions/{roleId}`,
    );
  }
  const [, subscription, name = ''] = match;
  if (subscription !== undefined && subscription.toLowerCase() !== scope.subscriptionId) {
    throw invalidContent(
      target,
      `names subscription '${subscription}', but the assignment is made ${scope.subscriptionId === undefined ? 'at the tenant root' : `in subscription '${scope.subscriptionId}'`}`,
    );
  }
  return checkGuid(name, target, 'InvalidRequestContent');
}
