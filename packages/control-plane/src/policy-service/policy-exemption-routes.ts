// `/{scope}/providers/Microsoft.Authorization/policyExemptions[/{name}]` at a subscription, a
// resource group or a machine: list (atScope(), atExactScope(), excludeExpired(),
// policyAssignmentId eq), get, create or replace, delete.
import { ArmError } from '../api/arm-error.js';
import type { RouteSpec } from '../api/route-spec.js';
import { scopeAt, scopeOf } from '../authorization/scoped-routes.js';
import { isExemptionActive } from '../policy/index.js';
import { isWithinScope } from '../rbac/scope.js';
import { DEFAULT_PAGE_SIZE, nextLinkFor, pageOf, skipTokenOf } from '../resources/arm-paging.js';
import { bodyObject, param, queryValue } from '../resources/arm-request.js';
import type { ArmServices } from '../resources/arm-routes.js';
import { requireScopeExists } from '../resources/arm-scope.js';
import { POLICY_ASSIGNMENT_ACTIONS, POLICY_SCOPE_PREFIXES } from './policy-assignment-routes.js';
import { PolicyCatalog } from './policy-catalog.js';
import { PolicyChanges } from './policy-changes.js';
import { parseExemptionPut, renderExemption } from './policy-exemption-resource.js';
import { checkPolicyName, policyResourceId } from './policy-ids.js';
import { inReach, parsePolicyListFilter } from './policy-list-filter.js';
import { PolicyStore } from './policy-store.js';

/** Exemptions keep the api-versions Azure gave them, apart from the other policy resources. */
export const POLICY_EXEMPTION_API_VERSIONS = [
  '2020-07-01-preview',
  '2022-07-01-preview',
  '2024-12-01-preview',
] as const;

export const POLICY_EXEMPTION_ACTIONS = {
  read: 'Microsoft.Authorization/policyExemptions/read',
  write: 'Microsoft.Authorization/policyExemptions/write',
  delete: 'Microsoft.Authorization/policyExemptions/delete',
} as const;

const LIST = '/providers/Microsoft.Authorization/policyExemptions';
const ONE = `${LIST}/:name`;

export function policyExemptionRoutes(services: ArmServices): RouteSpec[] {
  const { db, clock } = services;
  const store = new PolicyStore(db);
  const catalog = new PolicyCatalog(store);
  const pageSize = services.pageSize ?? DEFAULT_PAGE_SIZE;
  const common = { apiVersions: POLICY_EXEMPTION_API_VERSIONS };
  const at = (suffix: string, route: Omit<RouteSpec, 'url'>): RouteSpec[] =>
    POLICY_SCOPE_PREFIXES.map((prefix) => ({ ...route, url: `${prefix}${suffix}` }));
  const read = { kind: 'action' as const, action: POLICY_EXEMPTION_ACTIONS.read, scope: scopeAt };

  return [
    ...at(LIST, {
      ...common,
      method: 'GET',
      access: read,
      async handler({ request }) {
        const scope = scopeOf(request);
        const filter = parsePolicyListFilter(queryValue(request, '$filter'), 'exemption');
        await requireScopeExists(db, scope);
        const after = skipTokenOf(request);
        const now = clock.now();
        const rows = (await store.exemptions()).filter(
          (r) =>
            inReach(filter.reach, scope.scope, r.scope) &&
            (filter.id === undefined || r.policy_assignment_id === filter.id) &&
            (!filter.excludeExpired ||
              isExemptionActive({ expiresOn: r.expires_on ?? undefined }, now)) &&
            (after === undefined || r.id > after),
        );
        return pageOf(
          rows,
          pageSize,
          (r) => r.id,
          renderExemption,
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
        const row = await store.exemption(policyResourceId('exemption', scope.scope, name));
        if (row === undefined) throw exemptionNotFound(name);
        return renderExemption(row);
      },
    }),
    ...at(ONE, {
      ...common,
      method: 'PUT',
      access: { kind: 'action', action: POLICY_EXEMPTION_ACTIONS.write, scope: scopeAt },
      async handler(context) {
        const { request, reply, caller } = context;
        const scope = scopeOf(request);
        const name = checkPolicyName('exemption', param(request, 'name'));
        const put = parseExemptionPut(bodyObject(request), name);
        await requireScopeExists(db, scope);
        const assignment = await store.assignment(put.policyAssignmentId);
        if (assignment === undefined) {
          throw new ArmError(
            'InvalidPolicyAssignmentReference',
            `The request content is invalid: 'properties.policyAssignmentId' ('${put.policyAssignmentId}') names no policy assignment.`,
            { target: 'properties.policyAssignmentId' },
          );
        }
        if (
          put.properties['assignmentScopeValidation'] !== 'DoNotValidate' &&
          !isWithinScope(scope.scope, assignment.scope)
        ) {
          throw new ArmError(
            'InvalidPolicyAssignmentReference',
            `The request content is invalid: the exemption's scope '${scope.scope}' is not at or below the assignment's scope '${assignment.scope}', so the assignment does not apply there.`,
            { target: 'properties.policyAssignmentId' },
          );
        }
        // Exempting weakens an assignment: its owner's say, not only the exemption writer's.
        await context.demand(POLICY_ASSIGNMENT_ACTIONS.exempt, assignment.scope);
        const references = put.properties.policyDefinitionReferenceIds;
        if (references.length > 0) {
          const entry = await catalog.entry(assignment.policy_definition_id);
          const assigned = entry === undefined ? undefined : await catalog.assigned(entry);
          const members =
            assigned?.kind === 'set'
              ? assigned.document.members.map((m) => m.policyDefinitionReferenceId)
              : [];
          references.forEach((reference, i) => {
            if (!members.some((m) => m.toLowerCase() === reference.toLowerCase())) {
              throw new ArmError(
                'InvalidPolicyDefinitionReference',
                `The request content is invalid: 'properties.policyDefinitionReferenceIds[${i}]' ('${reference}') is not a member of the assigned ${assigned?.kind === 'set' ? `policy set; its reference ids are: ${members.join(', ')}` : 'policy, which is not a policy set'}.`,
                { target: `properties.policyDefinitionReferenceIds[${i}]` },
              );
            }
          });
        }
        const id = policyResourceId('exemption', scope.scope, name).toLowerCase();
        const before = await store.exemption(id);
        const now = new Date(clock.now()).toISOString();
        const who = caller?.name ?? 'unknown';
        await store.putExemption({
          id,
          scope: scope.scope,
          name: before?.name ?? name,
          policy_assignment_id: assignment.id,
          expires_on: put.expiresOn ?? null,
          properties: JSON.stringify({
            ...put.properties,
            policyAssignmentId: policyResourceId('assignment', assignment.scope, assignment.name),
          }),
          created_at: before?.created_at ?? now,
          created_by: before?.created_by ?? who,
          updated_at: now,
          updated_by: who,
        });
        PolicyChanges.of(db).publish({
          kind: 'exemption',
          change: before === undefined ? 'created' : 'updated',
          id,
          scope: scope.scope,
        });
        void reply.code(before === undefined ? 201 : 200);
        const stored = await store.exemption(id);
        if (stored === undefined) throw exemptionNotFound(name);
        return renderExemption(stored);
      },
    }),
    ...at(ONE, {
      ...common,
      method: 'DELETE',
      access: { kind: 'action', action: POLICY_EXEMPTION_ACTIONS.delete, scope: scopeAt },
      async handler({ request, reply }) {
        const scope = scopeOf(request);
        const id = policyResourceId('exemption', scope.scope, param(request, 'name')).toLowerCase();
        const row = await store.exemption(id);
        if (row === undefined) {
          void reply.code(204);
          return undefined;
        }
        await store.deleteExemption(id);
        PolicyChanges.of(db).publish({
          kind: 'exemption',
          change: 'deleted',
          id,
          scope: row.scope,
        });
        return undefined;
      },
    }),
  ];
}

function exemptionNotFound(name: string): ArmError {
  return new ArmError('PolicyExemptionNotFound', `The policy exemption '${name}' is not found.`, {
    target: 'name',
  });
}
