// `/providers/Microsoft.Authorization/policyDefinitions[/{name}]` (built-ins) and
// `/subscriptions/{id}/providers/Microsoft.Authorization/policyDefinitions[/{name}]`
// (built-ins listed beside custom ones), and the same for policySetDefinitions.
import type { FastifyRequest } from 'fastify';
import { ArmError } from '../api/arm-error.js';
import type { RouteSpec } from '../api/route-spec.js';
import { parsePolicyDefinition, type PolicyDefinitionDocument } from '../policy/index.js';
import { scopeAt, scopeOf } from '../authorization/scoped-routes.js';
import { DEFAULT_PAGE_SIZE, nextLinkFor, pageOf, skipTokenOf } from '../resources/arm-paging.js';
import { bodyObject, param, queryValue } from '../resources/arm-request.js';
import type { ArmServices } from '../resources/arm-routes.js';
import { requireScopeExists } from '../resources/arm-scope.js';
import { andClauses } from '../resources/odata-clauses.js';
import {
  BUILT_IN_ENTRIES,
  entryOfRow,
  PolicyCatalog,
  type CatalogEntry,
} from './policy-catalog.js';
import { PolicyChanges } from './policy-changes.js';
import { parseDefinitionPut, renderDefinition } from './policy-definition-resource.js';
import { checkPolicyName, policyResourceId, POLICY_COLLECTIONS } from './policy-ids.js';
import { PolicyStore } from './policy-store.js';

export const POLICY_API_VERSIONS = [
  '2021-06-01',
  '2023-04-01',
  '2024-05-01',
  '2025-03-01',
] as const;

export const POLICY_DEFINITION_ACTIONS = {
  read: 'Microsoft.Authorization/policyDefinitions/read',
  write: 'Microsoft.Authorization/policyDefinitions/write',
  delete: 'Microsoft.Authorization/policyDefinitions/delete',
} as const;
export const POLICY_SET_DEFINITION_ACTIONS = {
  read: 'Microsoft.Authorization/policySetDefinitions/read',
  write: 'Microsoft.Authorization/policySetDefinitions/write',
  delete: 'Microsoft.Authorization/policySetDefinitions/delete',
} as const;

const SUBSCRIPTION = '/subscriptions/:subscriptionId';

export function policyDefinitionRoutes(services: ArmServices): RouteSpec[] {
  return [...routesFor('definition', services), ...routesFor('set', services)];
}

function routesFor(kind: 'definition' | 'set', services: ArmServices): RouteSpec[] {
  const { db, clock } = services;
  const store = new PolicyStore(db);
  const catalog = new PolicyCatalog(store);
  const pageSize = services.pageSize ?? DEFAULT_PAGE_SIZE;
  const actions = kind === 'set' ? POLICY_SET_DEFINITION_ACTIONS : POLICY_DEFINITION_ACTIONS;
  const list = `/providers/Microsoft.Authorization/${POLICY_COLLECTIONS[kind]}`;
  const one = `${list}/:name`;
  const what = kind === 'set' ? 'policy set definition' : 'policy definition';
  const common = { apiVersions: POLICY_API_VERSIONS };

  function notFound(name: string): ArmError {
    return new ArmError(
      kind === 'set' ? 'PolicySetDefinitionNotFound' : 'PolicyDefinitionNotFound',
      `The ${what} '${name}' could not be found.`,
      { target: 'name' },
    );
  }

  async function find(request: FastifyRequest): Promise<CatalogEntry> {
    const scope = scopeOf(request);
    const name = param(request, 'name');
    await requireScopeExists(db, scope);
    const builtIn = BUILT_IN_ENTRIES[kind].find((e) => e.name.toLowerCase() === name.toLowerCase());
    if (builtIn !== undefined) return builtIn;
    const entry =
      scope.kind === 'root'
        ? undefined
        : await catalog.entry(policyResourceId(kind, scope.scope, name));
    if (entry === undefined) throw notFound(name);
    return entry;
  }

  function refuseBuiltIn(name: string): void {
    if (BUILT_IN_ENTRIES[kind].some((e) => e.name.toLowerCase() === name.toLowerCase())) {
      throw new ArmError(
        'BadRequest',
        `The ${what} '${name}' is built in; built-in ${what}s cannot be changed or deleted. Create a custom one with another name.`,
        {
          target: 'name',
        },
      );
    }
  }

  const read = { kind: 'action' as const, action: actions.read, scope: scopeAt };
  // Built-ins at the tenant root are the same for everyone: any signed-in caller reads them.
  const accessAt = (prefix: string): RouteSpec['access'] =>
    prefix === '' ? { kind: 'authenticated' } : read;
  return [
    ...['', SUBSCRIPTION].map((prefix): RouteSpec => ({
      ...common,
      method: 'GET',
      url: `${prefix}${list}`,
      access: accessAt(prefix),
      async handler({ request }) {
        const scope = scopeOf(request);
        await requireScopeExists(db, scope);
        const filter = parseDefinitionListFilter(queryValue(request, '$filter'));
        const custom =
          scope.kind === 'root'
            ? []
            : (await store.definitionsAt(kind, [scope.scope])).map(entryOfRow);
        const after = skipTokenOf(request);
        const all = [...BUILT_IN_ENTRIES[kind], ...custom]
          .filter((e) => filter(e))
          .filter((e) => after === undefined || e.id > after)
          .sort((a, b) => (a.id < b.id ? -1 : 1));
        return pageOf(
          all,
          pageSize,
          (e) => e.id,
          renderDefinition,
          (token) => nextLinkFor(services.publicUrl, request, token),
        );
      },
    })),
    ...['', SUBSCRIPTION].map((prefix): RouteSpec => ({
      ...common,
      method: 'GET',
      url: `${prefix}${one}`,
      access: accessAt(prefix),
      async handler({ request }) {
        return renderDefinition(await find(request));
      },
    })),
    {
      ...common,
      method: 'PUT',
      url: `${SUBSCRIPTION}${one}`,
      access: { kind: 'action', action: actions.write, scope: scopeAt },
      async handler({ request, reply, caller }) {
        const scope = scopeOf(request);
        const name = checkPolicyName(kind, param(request, 'name'));
        refuseBuiltIn(name);
        const body = bodyObject(request);
        await requireScopeExists(db, scope);
        const definitions =
          kind === 'set'
            ? await visibleDefinitions(scope.scope)
            : new Map<string, PolicyDefinitionDocument>();
        const properties = parseDefinitionPut(kind, body, name, definitions);
        const id = policyResourceId(kind, scope.scope, name).toLowerCase();
        const before = await store.definition(id);
        if (before !== undefined && before.kind !== kind) throw notFound(name);
        if (kind === 'definition' && before !== undefined) {
          await refuseBreakingUsers(id, properties);
        }
        const now = new Date(clock.now()).toISOString();
        const who = caller?.name ?? 'unknown';
        await store.putDefinition({
          id,
          kind,
          scope: scope.scope,
          name: before?.name ?? name,
          properties: JSON.stringify(properties),
          created_at: before?.created_at ?? now,
          created_by: before?.created_by ?? who,
          updated_at: now,
          updated_by: who,
        });
        PolicyChanges.of(db).publish({
          kind: kind === 'set' ? 'setDefinition' : 'definition',
          change: before === undefined ? 'created' : 'updated',
          id,
          scope: scope.scope,
        });
        void reply.code(201);
        const row = await store.definition(id);
        if (row === undefined) throw notFound(name);
        return renderDefinition(entryOfRow(row));
      },
    },
    {
      ...common,
      method: 'DELETE',
      url: `${SUBSCRIPTION}${one}`,
      access: { kind: 'action', action: actions.delete, scope: scopeAt },
      async handler({ request, reply }) {
        const scope = scopeOf(request);
        const name = param(request, 'name');
        refuseBuiltIn(name);
        const id = policyResourceId(kind, scope.scope, name).toLowerCase();
        const row = await store.definition(id);
        if (row?.kind !== kind) {
          void reply.code(204);
          return undefined;
        }
        const assignment = (await store.assignmentsOf(id))[0];
        if (assignment !== undefined) {
          throw new ArmError(
            kind === 'set'
              ? 'InvalidDeletePolicySetDefinitionRequest'
              : 'InvalidDeletePolicyDefinitionRequest',
            `The ${what} '${row.name}' cannot be deleted. It is referenced by the policy assignment '${policyResourceId('assignment', assignment.scope, assignment.name)}'. Please delete all policy assignments referencing the policy.`,
          );
        }
        if (kind === 'definition') {
          const set = (await store.allDefinitions()).find(
            (d) => d.kind === 'set' && memberIds(d.properties).includes(id),
          );
          if (set !== undefined) {
            throw new ArmError(
              'InvalidDeletePolicyDefinitionRequest',
              `The policy definition '${row.name}' cannot be deleted. It is referenced by the policy set definition '${policyResourceId('set', set.scope, set.name)}'. Remove it from that set first.`,
            );
          }
        }
        await store.deleteDefinition(id);
        PolicyChanges.of(db).publish({
          kind: kind === 'set' ? 'setDefinition' : 'definition',
          change: 'deleted',
          id,
          scope: scope.scope,
        });
        return renderDefinition(entryOfRow(row));
      },
    },
  ];

  /** Built-ins and the custom definitions at the scope or above it. */
  async function visibleDefinitions(scope: string): Promise<Map<string, PolicyDefinitionDocument>> {
    const all = await catalog.definitionDocuments();
    for (const id of [...all.keys()]) {
      const at = id.slice(0, id.indexOf('/providers/microsoft.authorization/'));
      if (at !== '' && !scope.startsWith(at)) all.delete(id);
    }
    return all;
  }

  /** A definition in use must still accept what its assignments and sets give it. */
  async function refuseBreakingUsers(
    id: string,
    properties: Record<string, unknown>,
  ): Promise<void> {
    const document = parsePolicyDefinition(properties);
    for (const user of await store.assignmentsOf(id)) {
      const stored = JSON.parse(user.properties) as { parameters?: unknown };
      try {
        document.parameters.resolve(stored.parameters, 'properties.parameters');
      } catch (error) {
        throw new ArmError(
          'InvalidPolicyParameters',
          `The change would break the policy assignment '${policyResourceId('assignment', user.scope, user.name)}': ${(error as Error).message}. Change or delete the assignment first.`,
          { target: 'properties.parameters' },
        );
      }
    }
  }
}

function memberIds(properties: string): string[] {
  const parsed = JSON.parse(properties) as {
    policyDefinitions?: { policyDefinitionId?: string }[];
  };
  return (parsed.policyDefinitions ?? []).map((m) => (m.policyDefinitionId ?? '').toLowerCase());
}

/** `policyType eq 'BuiltIn'|'Custom'` and `category eq '…'`, joined by `and`. */
function parseDefinitionListFilter(raw: string | undefined): (entry: CatalogEntry) => boolean {
  if (raw === undefined || raw.trim() === '') return () => true;
  const tests: ((entry: CatalogEntry) => boolean)[] = [];
  for (const clause of andClauses(raw.trim())) {
    const policyType = /^policyType\s+eq\s+'([^']*)'$/i.exec(clause);
    const category = /^category\s+eq\s+'([^']*)'$/i.exec(clause);
    if (policyType !== null) {
      const wanted = (policyType[1] ?? '').toLowerCase();
      tests.push((e) => String(e.properties['policyType']).toLowerCase() === wanted);
    } else if (category !== null) {
      const wanted = (category[1] ?? '').toLowerCase();
      tests.push(
        (e) =>
          JSON.stringify(
            (e.properties['metadata'] as { category?: unknown } | undefined)?.category ?? '',
          ).toLowerCase() === JSON.stringify(wanted),
      );
    } else {
      throw new ArmError(
        'BadRequest',
        `The $filter clause '${clause.slice(0, 200)}' is not supported; use policyType eq '{BuiltIn|Custom}' or category eq '{category}', joined by 'and'.`,
        {
          target: '$filter',
        },
      );
    }
  }
  return (entry) => tests.every((t) => t(entry));
}
