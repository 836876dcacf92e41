// Matches a batch of machines against policy at once: the guest configuration assignments their
// guest configuration policies ask for (created, changed, or removed when no policy wants them),
// and their policy states, written in a few set-wide statements in one transaction. Recomputed
// whole from what is stored, so running it twice changes nothing the second time.
import type { Selectable } from 'kysely';
import { ArmError } from '../api/arm-error.js';
import { settleStates, switchedOffMachines } from '../compliance/policy-state-restate.js';
import {
  machineView,
  type PolicyEntry,
  type PolicyResourceView,
  type PolicyVerdicts,
} from '../policy/index.js';
import type {
  GuestConfigurationAssignmentsTable,
  MachinesTable,
  PolicyStatesTable,
} from '../store/schema.js';
import {
  DEFAULT_FREQUENCY_MINUTES,
  gcAssignmentIdOf,
  POLICY_CONTEXT,
  type GcAssignmentRow,
} from './gc-assignment-resource.js';
import { ASSIGNMENT_TYPES } from './gc-assignment-input.js';
import { resolveGcPackage, type GcPackage } from './gc-package.js';
import type { GcServices } from './gc-services.js';
import type { Db } from './gc-store.js';

/** A machine with what its agent last reported, as the policy rules see it. */
export type MatchedMachine = Selectable<MachinesTable> & { agent_report: string | null };

/** Every entry that applies to a resource view; one policy snapshot for the whole batch. */
export type PolicyEvaluator = (view: PolicyResourceView) => PolicyVerdicts;

/** Rows per multi-row statement: well inside both databases' limits on bound values. */
const ROWS = 100;

interface WantedAssignment {
  name: string;
  version: string;
  assignmentType: (typeof ASSIGNMENT_TYPES)[number];
  parameters: { name: string; value: string }[];
  owners: string[];
}

/** Per run: a configuration's package is looked up once, not once per machine. */
export type PackageCache = Map<string, Promise<GcPackage | undefined>>;

/**
 * Matches the machines; returns the ids of those whose guest configuration assignments changed
 * (their goal state moved on, and their agents have been woken).
 */
export async function matchMachines(
  services: GcServices,
  machines: readonly MatchedMachine[],
  evaluate: PolicyEvaluator,
  packages: PackageCache = new Map(),
): Promise<string[]> {
  if (machines.length === 0) return [];
  const { db, clock } = services;
  const now = new Date(clock.now()).toISOString();
  const ids = machines.map((m) => m.id);
  const existing = new Map<string, GcAssignmentRow[]>();
  for (let i = 0; i < ids.length; i += ROWS * 5) {
    const rows = await db
      .selectFrom('guest_configuration_assignments')
      .selectAll()
      .where('machine_id', 'in', ids.slice(i, i + ROWS * 5))
      .execute();
    for (const row of rows)
      existing.set(row.machine_id, [...(existing.get(row.machine_id) ?? []), row]);
  }
  const puts: GuestConfigurationAssignmentsTable[] = [];
  const removals: string[] = [];
  const changed = new Set<string>();
  const states: PolicyStatesTable[] = [];
  const switchedOff = await switchedOffMachines(db, ids);
  for (const machine of machines) {
    const { matching, compliant } = evaluate(viewOf(machine));
    const mine = new Map((existing.get(machine.id) ?? []).map((r) => [r.name.toLowerCase(), r]));
    const plan = await planAssignments(
      services,
      machine,
      wantedAssignments(matching),
      mine,
      now,
      packages,
    );
    puts.push(...plan.puts);
    removals.push(...plan.removals);
    if (plan.puts.length > 0 || plan.removals.length > 0) changed.add(machine.id);
    const mineStates = policyStates(machine, matching, compliant, plan.statusByName, now);
    states.push(...settleStates(mineStates, switchedOff.has(machine.id), now));
  }
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < removals.length; i += ROWS) {
      const batch = removals.slice(i, i + ROWS);
      await trx
        .deleteFrom('guest_configuration_reports')
        .where('assignment_id', 'in', batch)
        .execute();
      await trx.deleteFrom('guest_configuration_assignments').where('id', 'in', batch).execute();
    }
    for (let i = 0; i < puts.length; i += ROWS) {
      await trx
        .insertInto('guest_configuration_assignments')
        .values(puts.slice(i, i + ROWS))
        .onConflict((oc) => oc.column('id').doUpdateSet(excludedAssignment))
        .execute();
    }
    for (let i = 0; i < ids.length; i += ROWS * 5) {
      await trx
        .deleteFrom('policy_states')
        .where('machine_id', 'in', ids.slice(i, i + ROWS * 5))
        .execute();
    }
    for (let i = 0; i < states.length; i += ROWS) {
      await trx
        .insertInto('policy_states')
        .values(states.slice(i, i + ROWS))
        .onConflict((oc) =>
          oc
            .columns(['machine_id', 'policy_assignment_id', 'reference_id'])
            .doUpdateSet(excludedState),
        )
        .execute();
    }
    await markMatched(trx, machines, [...changed]);
  });
  for (const id of changed) services.waiters.wake(id);
  return [...changed];
}

function viewOf(machine: MatchedMachine) {
  return machineView({
    id: machine.id,
    name: machine.name,
    location: machine.location,
    tags: JSON.parse(machine.tags) as Record<string, string>,
    properties: {
      ...(JSON.parse(machine.properties) as Record<string, unknown>),
      ...(machine.agent_report == null
        ? {}
        : (JSON.parse(machine.agent_report) as Record<string, unknown>)),
    },
  });
}

/** Each machine's goal state moves on if its assignments changed; all are matched as of now. */
async function markMatched(
  db: Db,
  machines: readonly MatchedMachine[],
  changed: readonly string[],
): Promise<void> {
  for (let i = 0; i < machines.length; i += ROWS) {
    await db
      .insertInto('guest_configuration_machines')
      .values(
        machines.slice(i, i + ROWS).map((m) => ({
          machine_id: m.id,
          generation: 0,
          evaluation_request: 0,
          disabled_reason: null,
          reconciled_for: m.updated_at,
          switched_off: 0,
        })),
      )
      .onConflict((oc) =>
        oc.column('machine_id').doUpdateSet((eb) => ({
          reconciled_for: eb.ref('excluded.reconciled_for'),
        })),
      )
      .execute();
  }
  for (let i = 0; i < changed.length; i += ROWS * 5) {
    await db
      .updateTable('guest_configuration_machines')
      .set((eb) => ({ generation: eb('generation', '+', 1) }))
      .where('machine_id', 'in', changed.slice(i, i + ROWS * 5))
      .execute();
  }
}

const ASSIGNMENT_COLUMNS = [
  'machine_id',
  'subscription_id',
  'resource_group',
  'name',
  'configuration_name',
  'configuration_version',
  'publisher',
  'content_uri',
  'content_hash',
  'assignment_type',
  'parameters',
  'frequency_minutes',
  'context',
  'policy_assignment_ids',
  'compliance_status',
  'last_checked',
  'latest_report_id',
  'provisioning_state',
  'updated_at',
] as const;

const excludedAssignment = (eb: {
  ref(column: `excluded.${(typeof ASSIGNMENT_COLUMNS)[number]}`): unknown;
}) => Object.fromEntries(ASSIGNMENT_COLUMNS.map((c) => [c, eb.ref(`excluded.${c}`)])) as never;

const STATE_COLUMNS = [
  'subscription_id',
  'resource_group',
  'policy_assignment_name',
  'policy_definition_id',
  'policy_set_definition_id',
  'definition_action',
  'gc_assignment_name',
  'compliance_state',
  'exempt',
  'exempt_until',
  'timestamp',
  'state',
  'assignment_rank',
  'machine_rank',
] as const;

const excludedState = (eb: {
  ref(column: `excluded.${(typeof STATE_COLUMNS)[number]}`): unknown;
}) => Object.fromEntries(STATE_COLUMNS.map((c) => [c, eb.ref(`excluded.${c}`)])) as never;

function isGuestConfigurationEntry(entry: PolicyEntry): boolean {
  return (
    entry.guestConfiguration !== undefined &&
    (entry.effect === 'AuditIfNotExists' || entry.effect === 'DeployIfNotExists')
  );
}

function wantedAssignments(entries: readonly PolicyEntry[]): Map<string, WantedAssignment> {
  const wanted = new Map<string, WantedAssignment>();
  for (const entry of entries) {
    const gc = entry.guestConfiguration;
    if (gc === undefined || !isGuestConfigurationEntry(entry)) continue;
    const key = gc.name.toLowerCase();
    const owner = entry.policyAssignmentId.toLowerCase();
    const existing = wanted.get(key);
    if (existing !== undefined) {
      if (!existing.owners.includes(owner)) existing.owners.push(owner);
      continue;
    }
    const type =
      ASSIGNMENT_TYPES.find((t) => t.toLowerCase() === (gc.assignmentType ?? '').toLowerCase()) ??
      (entry.effect === 'DeployIfNotExists' ? 'ApplyAndMonitor' : 'Audit');
    wanted.set(key, {
      name: gc.name,
      version: gc.version ?? '*',
      assignmentType: type,
      parameters: [...(gc.parameters ?? [])],
      owners: [owner],
    });
  }
  return wanted;
}

interface AssignmentPlan {
  puts: GuestConfigurationAssignmentsTable[];
  /** Ids of assignments no policy wants any more. */
  removals: string[];
  /** Compliance of each assignment the machine keeps, by lower-cased name. */
  statusByName: Map<string, 'Compliant' | 'NonCompliant' | 'Unknown'>;
}

async function planAssignments(
  services: GcServices,
  machine: MatchedMachine,
  wanted: Map<string, WantedAssignment>,
  existing: Map<string, GcAssignmentRow>,
  now: string,
  packages: PackageCache,
): Promise<AssignmentPlan> {
  const plan: AssignmentPlan = { puts: [], removals: [], statusByName: new Map() };
  const status = (s: GcAssignmentRow['compliance_status']) => (s === 'Pending' ? 'Unknown' : s);
  for (const [key, row] of existing) {
    const owners = JSON.parse(row.policy_assignment_ids) as string[];
    if (owners.length > 0 && !wanted.has(key)) plan.removals.push(row.id);
    else plan.statusByName.set(key, status(row.compliance_status));
  }
  for (const [key, want] of wanted) {
    const row = existing.get(key);
    const owners = JSON.stringify([...want.owners].sort());
    // One an operator wrote directly stays theirs; policy reads its compliance all the same.
    if (row !== undefined && row.policy_assignment_ids === '[]') continue;
    const found = await packageOf(services, want, packages);
    // Nothing published yet: the assignment shows Failed until a package appears.
    const content = found ?? {
      publisher: '',
      version: want.version,
      contentUri: '',
      contentHash: '',
    };
    const provisioningState = found === undefined ? 'Failed' : 'Succeeded';
    const parameters = JSON.stringify(want.parameters);
    const same =
      row !== undefined &&
      row.policy_assignment_ids === owners &&
      row.content_hash === content.contentHash &&
      row.parameters === parameters &&
      row.assignment_type === want.assignmentType &&
      row.provisioning_state === provisioningState;
    if (same) continue;
    const sameContent = row !== undefined && row.content_hash === content.contentHash;
    const complianceStatus = sameContent ? row.compliance_status : 'Pending';
    plan.statusByName.set(key, status(complianceStatus));
    plan.puts.push({
      id: gcAssignmentIdOf(machine.id, want.name),
      machine_id: machine.id,
      subscription_id: machine.subscription_id,
      resource_group: machine.resource_group,
      name: row?.name ?? want.name,
      configuration_name: want.name,
      configuration_version: content.version,
      publisher: content.publisher,
      content_uri: content.contentUri,
      content_hash: content.contentHash,
      assignment_type: want.assignmentType,
      parameters,
      frequency_minutes: row?.frequency_minutes ?? DEFAULT_FREQUENCY_MINUTES,
      context: POLICY_CONTEXT,
      policy_assignment_ids: owners,
      compliance_status: complianceStatus,
      last_checked: sameContent ? row.last_checked : null,
      latest_report_id: sameContent ? row.latest_report_id : null,
      provisioning_state: provisioningState,
      created_at: row?.created_at ?? now,
      updated_at: now,
    });
  }
  return plan;
}

function packageOf(
  services: GcServices,
  want: WantedAssignment,
  packages: PackageCache,
): Promise<GcPackage | undefined> {
  const key = `${want.name.toLowerCase()}|${want.version}`;
  let found = packages.get(key);
  if (found === undefined) {
    found = resolveGcPackage(services.db, services.publicUrl, want.name, want.version).catch(
      (error: unknown) => {
        if (error instanceof ArmError) return undefined;
        throw error;
      },
    );
    packages.set(key, found);
  }
  return found;
}

/**
 * The machine's policy states: one per matching entry, and one Compliant per Audit or Deny entry
 * covering it whose rule does not match. Guest configuration ones take their assignment's
 * compliance.
 */
function policyStates(
  machine: MatchedMachine,
  entries: readonly PolicyEntry[],
  compliant: readonly PolicyEntry[],
  gcStatus: Map<string, 'Compliant' | 'NonCompliant' | 'Unknown'>,
  now: string,
): PolicyStatesTable[] {
  const rows: PolicyStatesTable[] = [];
  const seen = new Set<string>();
  const complies = new Set(compliant);
  for (const entry of [...entries, ...compliant]) {
    const gc = isGuestConfigurationEntry(entry) ? entry.guestConfiguration : undefined;
    // A matching Audit or Deny rule is itself the finding; other effects are not evaluated here.
    if (gc === undefined && entry.effect !== 'Audit' && entry.effect !== 'Deny') continue;
    const referenceId = (entry.policyDefinitionReferenceId ?? '').toLowerCase();
    const key = `${entry.policyAssignmentId.toLowerCase()}|${referenceId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({
      machine_id: machine.id,
      policy_assignment_id: entry.policyAssignmentId.toLowerCase(),
      reference_id: referenceId,
      subscription_id: machine.subscription_id,
      resource_group: machine.resource_group,
      policy_assignment_name: entry.policyAssignmentName,
      policy_definition_id: entry.policyDefinitionId,
      policy_set_definition_id: entry.policySetDefinitionId ?? null,
      definition_action: entry.effect.toLowerCase(),
      gc_assignment_name: gc === undefined ? null : gc.name.toLowerCase(),
      compliance_state:
        gc !== undefined
          ? (gcStatus.get(gc.name.toLowerCase()) ?? 'Unknown')
          : complies.has(entry)
            ? 'Compliant'
            : 'NonCompliant',
      exempt: entry.exemption === undefined ? 0 : 1,
      exempt_until:
        entry.exemption?.expiresOn === undefined
          ? null
          : new Date(Date.parse(entry.exemption.expiresOn)).toISOString(),
      timestamp: now,
      // Settled with the machine's other states (settleStates).
      state: 'Unknown',
      assignment_rank: null,
      machine_rank: null,
    });
  }
  return rows;
}
