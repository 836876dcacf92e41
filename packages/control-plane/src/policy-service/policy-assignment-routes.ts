// `/{scope}/providers/Microsoft.Authorization/policyAssignments[/{name}]` at a subscription,
// a resource group or a machine: list (atScope(), atExactScope(), policyDefinitionId eq),
// get, create or replace, delete.
import { ArmError } from '../api/arm-error.js';
import type { RouteSpec } from '../api/route-spec.js';
import { scopeAt, scopeOf, SCOPE_PREFIXES } from '../authorization/scoped-routes.js';
import { compileAssignment } from '../policy/index.js';
import { isWithinScope } from '../rbac/scope.js';
import { DEFAULT_PAGE_SIZE, nextLinkFor, pageOf, skipTokenOf } from '../resources/arm-paging.js';
import { bodyObject, param, queryValue } from '../resources/arm-request.js';
import type { ArmServices } from '../resources/arm-routes.js';
import { requireScopeExists } from '../resources/arm-scope.js';
import { asArm } from './policy-arm-error.js';
import {
  checkMessageReferences,
  parseAssignmentPut,
  renderAssignment,
} from './policy-assignment-resource.js';
import { assignmentRecord, PolicyCatalog } from './policy-catalog.js';
import { PolicyChanges } from './policy-changes.js';
import { POLICY_API_VERSIONS } from './policy-definition-routes.js';
import { checkPolicyName, policyResourceId } from './policy-ids.js';
import { inReach, parsePolicyListFilter } from './policy-list-filter.js';
import { PolicyStore } from './policy-store.js';

export const POLICY_ASSIGNMENT_ACTIONS = {
  read: 'Microsoft.Authorization/policyAssignments/read',
  write: 'Microsoft.Authorization/policyAssignments/write',
  delete: 'Microsoft.Authorization/policyAssignments/delete',
  /** Needed on an assignment to exempt anything from it. */
  exempt: 'Microsoft.Authorization/policyAssignments/exempt/action',
} as const;

/** A subscription, a resource group or a machine. */
export const POLICY_SCOPE_PREFIXES = SCOPE_PREFIXES.slice(1, 4);

const LIST = '/providers/Microsoft.Authorization/policyAssignments';
const ONE = `${LIST}/:name`;

export function policyAssignmentRoutes(services: ArmServices): RouteSpec[] {
  const { db, clock } = services;
  const store = new PolicyStore(db);
  const catalog = new PolicyCatalog(store);
  const pageSize = services.pageSize ?? DEFAULT_PAGE_SIZE;
  const common = { apiVersions: POLICY_API_VERSIONS };
  const at = (suffix: string, route: Omit<RouteSpec, 'url'>): RouteSpec[] =>
    POLICY_SCOPE_PREFIXES.map((prefix) => ({ ...route, url: `${prefix}${suffix}` }));
  const read = { kind: 'action' as const, action: POLICY_ASSIGNMENT_ACTIONS.read, scope: scopeAt };

  return [
    ...at(LIST, {
      ...common,
      method: 'GET',
      access: read,
      async handler({ request }) {
        const scope = scopeOf(request);
        const filter = parsePolicyListFilter(queryValue(request, '$filter'), 'assignment');
        await requireScopeExists(db, scope);
        const after = skipTokenOf(request);
        const rows = (await store.assignments()).filter(
          (r) =>
            inReach(filter.reach, scope.scope, r.scope) &&
            (filter.id === undefined || r.policy_definition_id === filter.id) &&
            (after === undefined || r.id > after),
        );
        return pageOf(
          rows,
          pageSize,
          (r) => r.id,
          renderAssignment,
          (token) => nextLinkFor(services.publicUrl, request, token),
        );
      },
    }),
    ...at(ONE, {
      ...common,
      method: 'GET',
      access: read,
      async handler({ request }) {
        const scope = scopeOf(request);
        const name = param(request, 'name');
        await requireScopeExists(db, scope);
        const row = await store.assignment(policyResourceId('assignment', scope.scope, name));
        if (row === undefined) throw assignmentNotFound(name);
        return renderAssignment(row);
      },
    }),
    ...at(ONE, {
      ...common,
      method: 'PUT',
      access: { kind: 'action', action: POLICY_ASSIGNMENT_ACTIONS.write, scope: scopeAt },
      async handler({ request, reply, caller }) {
        const scope = scopeOf(request);
        const name = checkPolicyName('assignment', param(request, 'name'));
        const put = parseAssignmentPut(bodyObject(request), name, scope);
        await requireScopeExists(db, scope);
        const entry = await catalog.entry(put.properties.policyDefinitionId);
        const visible = entry !== undefined && isWithinScope(scope.scope, entry.scope);
        if (entry === undefined || !visible) {
          throw new ArmError(
            'InvalidPolicyDefinitionReference',
            `The request content is invalid: 'properties.policyDefinitionId' ('${put.properties.policyDefinitionId}') names no ${entry === undefined ? '' : 'visible '}policy definition or policy set definition; use a built-in one (/providers/Microsoft.Authorization/…) or one created in this subscription.`,
            { target: 'properties.policyDefinitionId' },
          );
        }
        const id = policyResourceId('assignment', scope.scope, name).toLowerCase();
        const row = {
          id,
          scope: scope.scope,
          name,
          policy_definition_id: entry.id,
          location: put.location ?? null,
          properties: JSON.stringify(put.properties),
        };
        const assigned = await catalog.assigned(entry);
        asArm(() =>
          compileAssignment(
            assignmentRecord({
              ...row,
              created_at: '',
              created_by: '',
              updated_at: '',
              updated_by: '',
            }),
            assigned,
          ),
        );
        checkMessageReferences(
          put,
          assigned.kind === 'set'
            ? assigned.document.members.map((m) => m.policyDefinitionReferenceId)
            : undefined,
        );
        const before = await store.assignment(id);
        const now = new Date(clock.now()).toISOString();
        const who = caller?.name ?? 'unknown';
        await store.putAssignment({
          ...row,
          name: before?.name ?? name,
          created_at: before?.created_at ?? now,
          created_by: before?.created_by ?? who,
          updated_at: now,
          updated_by: who,
        });
        PolicyChanges.of(db).publish({
          kind: 'assignment',
          change: before === undefined ? 'created' : 'updated',
          id,
          scope: scope.scope,
        });
        void reply.code(201);
        const stored = await store.assignment(id);
        if (stored === undefined) throw assignmentNotFound(name);
        return renderAssignment(stored);
      },
    }),
    ...at(ONE, {
      ...common,
      method: 'DELETE',
      access: { kind: 'action', action: POLICY_ASSIGNMENT_ACTIONS.delete, scope: scopeAt },
      async handler({ request, reply }) {
        const scope = scopeOf(request);
        const id = policyResourceId(
          'assignment',
          scope.scope,
          param(request, 'name'),
        ).toLowerCase();
        const row = await store.assignment(id);
        if (row === undefined) {
          void reply.code(204);
          return undefined;
        }
        const exemptions = await store.deleteAssignment(id);
        const changes = PolicyChanges.of(db);
        changes.publish({ kind: 'assignment', change: 'deleted', id, scope: row.scope });
        for (const exemption of exemptions)
          changes.publish({
            kind: 'exemption',
            change: 'deleted',
            id: exemption,
            scope: row.scope,
          });
        return renderAssignment(row);
      },
    }),
  ];
}

export function assignmentNotFound(name: string): ArmError {
  return new ArmError('PolicyAssignmentNotFound', `The policy assignment '${name}' is not found.`, {
    target: 'name',
  });
}
