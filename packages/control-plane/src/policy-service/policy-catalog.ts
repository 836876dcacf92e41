// Looks up what ids name: built-in and stored definitions and sets as parsed documents, and
// stored assignments and exemptions as the records the policy language evaluates.
import {
  BUILT_IN_POLICY_DEFINITIONS,
  BUILT_IN_POLICY_SETS,
  compileAssignment,
  parsePolicyDefinition,
  parsePolicySet,
  type AssignedPolicy,
  type AssignmentRecord,
  type CompiledAssignment,
  type EnforcementMode,
  type ExemptionCategory,
  type ExemptionRecord,
  type PolicyDefinitionDocument,
} from '../policy/index.js';
import type {
  PolicyAssignmentsTable,
  PolicyDefinitionsTable,
  PolicyExemptionsTable,
} from '../store/schema.js';
import { definitionKindOf, policyResourceId } from './policy-ids.js';
import type { PolicyStore } from './policy-store.js';

/** A built-in or stored definition or set, with its `properties` as served. */
export interface CatalogEntry {
  kind: 'definition' | 'set';
  /** Lower-cased id. */
  id: string;
  name: string;
  /** Normalized scope: '/' for built-ins. */
  scope: string;
  properties: Record<string, unknown>;
  row: PolicyDefinitionsTable | undefined;
}

function builtIns(kind: 'definition' | 'set'): CatalogEntry[] {
  return (kind === 'definition' ? BUILT_IN_POLICY_DEFINITIONS : BUILT_IN_POLICY_SETS).map((b) => ({
    kind,
    id: policyResourceId(kind, '/', b.name).toLowerCase(),
    name: b.name,
    scope: '/',
    properties: b.properties,
    row: undefined,
  }));
}

export const BUILT_IN_ENTRIES: Readonly<Record<'definition' | 'set', readonly CatalogEntry[]>> = {
  definition: builtIns('definition'),
  set: builtIns('set'),
};

const builtInDocuments = new Map<string, PolicyDefinitionDocument>(
  BUILT_IN_ENTRIES.definition.map((e) => [e.id, parsePolicyDefinition(e.properties)]),
);

export function entryOfRow(row: PolicyDefinitionsTable): CatalogEntry {
  return {
    kind: row.kind,
    id: row.id,
    name: row.name,
    scope: row.scope,
    properties: JSON.parse(row.properties) as Record<string, unknown>,
    row,
  };
}

export class PolicyCatalog {
  constructor(private readonly store: PolicyStore) {}

  async entry(id: string): Promise<CatalogEntry | undefined> {
    const lower = id.toLowerCase();
    const kind = definitionKindOf(lower);
    if (kind === undefined) return undefined;
    const builtIn = BUILT_IN_ENTRIES[kind].find((e) => e.id === lower);
    if (builtIn !== undefined) return builtIn;
    const row = await this.store.definition(lower);
    return row?.kind === kind ? entryOfRow(row) : undefined;
  }

  /** Definitions by lower-cased id, built-in and stored, for checking a set's members. */
  async definitionDocuments(): Promise<Map<string, PolicyDefinitionDocument>> {
    const documents = new Map(builtInDocuments);
    for (const row of await this.store.allDefinitions()) {
      if (row.kind === 'definition')
        documents.set(row.id, parsePolicyDefinition(JSON.parse(row.properties)));
    }
    return documents;
  }

  /** What a (checked, existing) definition or set id names, ready to compile an assignment. */
  async assigned(entry: CatalogEntry): Promise<AssignedPolicy> {
    if (entry.kind === 'definition') {
      const document = builtInDocuments.get(entry.id) ?? parsePolicyDefinition(entry.properties);
      return { kind: 'definition', id: entry.id, document };
    }
    const definitions = await this.definitionDocuments();
    const { document } = parsePolicySet(entry.properties, (id) => definitions.get(id));
    return { kind: 'set', id: entry.id, document, definitions };
  }

  /** Compiles stored assignments; one whose definition has gone is skipped, not fatal. */
  async compile(rows: readonly PolicyAssignmentsTable[]): Promise<CompiledAssignment[]> {
    const compiled: CompiledAssignment[] = [];
    const byDefinition = new Map<string, AssignedPolicy | undefined>();
    for (const row of rows) {
      if (!byDefinition.has(row.policy_definition_id)) {
        const entry = await this.entry(row.policy_definition_id);
        byDefinition.set(
          row.policy_definition_id,
          entry === undefined ? undefined : await this.assigned(entry),
        );
      }
      const assigned = byDefinition.get(row.policy_definition_id);
      if (assigned !== undefined) compiled.push(compileAssignment(assignmentRecord(row), assigned));
    }
    return compiled;
  }
}

export interface StoredAssignmentProperties {
  displayName?: string;
  policyDefinitionId: string;
  notScopes: string[];
  parameters: Record<string, unknown>;
  enforcementMode: EnforcementMode;
}

export function assignmentRecord(row: PolicyAssignmentsTable): AssignmentRecord {
  const p = JSON.parse(row.properties) as StoredAssignmentProperties;
  return {
    id: policyResourceId('assignment', row.scope, row.name),
    name: row.name,
    displayName: p.displayName,
    scope: row.scope,
    notScopes: p.notScopes.map((s) => s.toLowerCase()),
    enforcementMode: p.enforcementMode,
    policyDefinitionId: row.policy_definition_id,
    parameters: p.parameters,
  };
}

export function exemptionRecord(row: PolicyExemptionsTable): ExemptionRecord {
  const p = JSON.parse(row.properties) as {
    policyDefinitionReferenceIds?: string[];
    exemptionCategory: ExemptionCategory;
  };
  return {
    id: policyResourceId('exemption', row.scope, row.name),
    scope: row.scope,
    policyAssignmentId: row.policy_assignment_id,
    policyDefinitionReferenceIds: (p.policyDefinitionReferenceIds ?? []).map((r) =>
      r.toLowerCase(),
    ),
    exemptionCategory: p.exemptionCategory,
    expiresOn: row.expires_on ?? undefined,
  };
}
