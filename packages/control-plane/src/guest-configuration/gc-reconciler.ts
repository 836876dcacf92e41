// Matches one machine against policy: creates the guest configuration assignments its guest
// configuration policies ask for, removes those no policy wants any more, and rewrites its
// policy states. Runs lazily, whenever the machine or any policy changed since the last run.
import { randomUUID } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import { ArmError } from '../api/arm-error.js';
import { restateMachines } from '../compliance/policy-state-restate.js';
import { machineView, type PolicyEntry } from '../policy/index.js';
import type { MachinesTable, PolicyStatesTable } from '../store/schema.js';
import {
  DEFAULT_FREQUENCY_MINUTES,
  gcAssignmentIdOf,
  POLICY_CONTEXT,
} from './gc-assignment-resource.js';
import { ASSIGNMENT_TYPES } from './gc-assignment-input.js';
import { gcAssignmentsChanged, syncGcPolicyStates } from './gc-changes.js';
import { resolveGcPackage } from './gc-package.js';
import type { GcServices } from './gc-services.js';
import {
  deleteGcAssignment,
  gcMachineState,
  machineGcAssignments,
  putGcAssignment,
  updateGcMachine,
  type Db,
} from './gc-store.js';

type MachineRow = Selectable<MachinesTable>;

/** Per database: a run id and a count of policy changes seen, which together say what is stale. */
interface PolicyGeneration {
  epoch: string;
  count: number;
}
const GENERATIONS = new WeakMap<object, PolicyGeneration>();

export function policyGeneration(db: Db): PolicyGeneration {
  let generation = GENERATIONS.get(db);
  if (generation === undefined) {
    generation = { epoch: randomUUID(), count: 0 };
    GENERATIONS.set(db, generation);
  }
  return generation;
}

/** Call after any policy change: every machine is matched again before it is next read. */
export function policyChanged(services: GcServices): void {
  policyGeneration(services.db).count++;
  // Waiting agents ask again, and their next poll matches their machine against the change.
  services.waiters.wakeAll();
}

function reconcileKey(db: Db, machine: MachineRow): string {
  const generation = policyGeneration(db);
  return `${machine.updated_at}|${generation.epoch}|${generation.count}`;
}

/** Matches the machine against policy unless nothing changed since it last was. */
export async function reconcileIfStale(services: GcServices, machine: MachineRow): Promise<void> {
  if (services.policy === undefined) return;
  const key = reconcileKey(services.db, machine);
  if ((await gcMachineState(services.db, machine.id)).reconciledFor === key) return;
  await reconcileMachine(services, machine);
  await updateGcMachine(services.db, machine.id, { reconciledFor: key });
}

export interface MachineScope {
  subscriptionId: string;
  resourceGroup?: string;
  machineId?: string;
}

/**
 * Every machine in scope that is stale, matched again. The database picks the stale ones, so a
 * fleet where nothing changed costs one indexed query, not a row per machine read into memory.
 */
export async function reconcileStale(services: GcServices, scope: MachineScope): Promise<void> {
  if (services.policy === undefined) return;
  const { epoch, count } = policyGeneration(services.db);
  const suffix = `|${epoch}|${count}`;
  let stale = services.db
    .selectFrom('machines as m')
    .leftJoin('guest_configuration_machines as g', 'g.machine_id', 'm.id')
    .selectAll('m')
    .where('m.subscription_id', '=', scope.subscriptionId.toLowerCase())
    .where((eb) =>
      eb.or([
        eb('g.reconciled_for', 'is', null),
        eb('g.reconciled_for', '<>', sql<string>`${sql.ref('m.updated_at')} || ${suffix}`),
      ]),
    );
  if (scope.resourceGroup !== undefined)
    stale = stale.where('m.resource_group', '=', scope.resourceGroup.toLowerCase());
  if (scope.machineId !== undefined) stale = stale.where('m.id', '=', scope.machineId);
  for (const machine of await stale.execute()) {
    const key = reconcileKey(services.db, machine);
    await reconcileMachine(services, machine);
    await updateGcMachine(services.db, machine.id, { reconciledFor: key });
  }
}

interface WantedAssignment {
  name: string;
  version: string;
  assignmentType: (typeof ASSIGNMENT_TYPES)[number];
  parameters: { name: string; value: string }[];
  owners: string[];
}

export async function reconcileMachine(services: GcServices, machine: MachineRow): Promise<void> {
  const { db, clock, policy } = services;
  if (policy === undefined) return;
  const agent = await db
    .selectFrom('machine_agents')
    .select('report')
    .where('machine_id', '=', machine.id)
    .executeTakeFirst();
  const view = machineView({
    id: machine.id,
    name: machine.name,
    location: machine.location,
    tags: JSON.parse(machine.tags) as Record<string, string>,
    properties: {
      ...(JSON.parse(machine.properties) as Record<string, unknown>),
      ...(agent?.report == null ? {} : (JSON.parse(agent.report) as Record<string, unknown>)),
    },
  });
  const { matching, compliant } = await policy.evaluatePolicies(view);
  const now = new Date(clock.now()).toISOString();
  const gcChanged = await reconcileAssignments(services, machine, wantedAssignments(matching), now);
  await writePolicyStates(db, machine, matching, compliant, now);
  if (gcChanged) await gcAssignmentsChanged(services, machine.id);
  else await syncGcPolicyStates(db, machine.id, now);
}

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

/** Returns whether any assignment of the machine was created, changed or removed. */
async function reconcileAssignments(
  services: GcServices,
  machine: MachineRow,
  wanted: Map<string, WantedAssignment>,
  now: string,
): Promise<boolean> {
  const { db } = services;
  let changed = false;
  const existing = new Map(
    (await machineGcAssignments(db, machine.id)).map((row) => [row.name.toLowerCase(), row]),
  );
  for (const [key, row] of existing) {
    const owners = JSON.parse(row.policy_assignment_ids) as string[];
    if (owners.length > 0 && !wanted.has(key)) {
      await deleteGcAssignment(db, row.id);
      changed = true;
    }
  }
  for (const [key, want] of wanted) {
    const row = existing.get(key);
    const owners = JSON.stringify([...want.owners].sort());
    // One an operator wrote directly stays theirs; policy reads its compliance all the same.
    if (row !== undefined && row.policy_assignment_ids === '[]') continue;
    let content: { publisher: string; version: string; contentUri: string; contentHash: string };
    let provisioningState: 'Succeeded' | 'Failed' = 'Succeeded';
    try {
      content = await resolveGcPackage(db, services.publicUrl, want.name, want.version);
    } catch (error) {
      if (!(error instanceof ArmError)) throw error;
      // Nothing published yet: the assignment shows Failed until a package appears.
      content = { publisher: '', version: want.version, contentUri: '', contentHash: '' };
      provisioningState = 'Failed';
    }
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
    await putGcAssignment(db, {
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
      compliance_status: sameContent ? row.compliance_status : 'Pending',
      last_checked: sameContent ? row.last_checked : null,
      latest_report_id: sameContent ? row.latest_report_id : null,
      provisioning_state: provisioningState,
      created_at: row?.created_at ?? now,
      updated_at: now,
    });
    changed = true;
  }
  return changed;
}

/**
 * The machine's policy states, rewritten whole: one per matching entry, and one Compliant per
 * Audit or Deny entry covering it whose rule does not match.
 */
async function writePolicyStates(
  db: Db,
  machine: MachineRow,
  entries: readonly PolicyEntry[],
  compliant: readonly PolicyEntry[],
  now: string,
): Promise<void> {
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
        gc !== undefined ? 'Unknown' : complies.has(entry) ? 'Compliant' : 'NonCompliant',
      exempt: entry.exemption === undefined ? 0 : 1,
      exempt_until:
        entry.exemption?.expiresOn === undefined
          ? null
          : new Date(Date.parse(entry.exemption.expiresOn)).toISOString(),
      timestamp: now,
      // Worked out below, with the machine's other states.
      state: 'Unknown',
      assignment_rank: null,
      machine_rank: null,
    });
  }
  await db.deleteFrom('policy_states').where('machine_id', '=', machine.id).execute();
  for (let i = 0; i < rows.length; i += 50) {
    await db
      .insertInto('policy_states')
      .values(rows.slice(i, i + 50))
      .execute();
  }
  await restateMachines(db, [machine.id], now);
}
