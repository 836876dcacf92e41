// The agent's guest configuration calls: the goal state long poll (answering at once when the
// generation moved, else when it moves or `wait` passes) and the report upload.
import {
  GUEST_CONFIGURATION_AGENT_ACTIONS,
  GUEST_CONFIGURATION_GOAL_STATE_PATH,
  GUEST_CONFIGURATION_REPORTS_PATH,
  type GuestConfigurationGoalState,
} from '@tether/protocol';
import { ArmError } from '../api/arm-error.js';
import { restateMachines } from '../compliance/policy-state-restate.js';
import type { RouteSpec } from '../api/route-spec.js';
import { AGENT_API_VERSIONS } from '../extensions/extension-resource.js';
import {
  MACHINE_PATH,
  machineAt,
  machineTargetOf,
  requireMachine,
} from '../extensions/extension-target.js';
import { bodyObject, queryValue } from '../resources/arm-request.js';
import { syncGcPolicyStates } from './gc-changes.js';
import { reconcileIfStale } from './gc-reconciler.js';
import { parseReportUpload } from './gc-report-upload.js';
import type { GcServices } from './gc-services.js';
import { storeReports } from './gc-report-store.js';
import { gcMachineState, machineGcAssignments, updateGcMachine, type Db } from './gc-store.js';

const DEFAULT_WAIT_SECONDS = 50;
const MAX_WAIT_SECONDS = 60;

export function gcAgentRoutes(services: GcServices): RouteSpec[] {
  const { db, clock, waiters } = services;
  return [
    {
      apiVersions: AGENT_API_VERSIONS,
      method: 'GET',
      url: `${MACHINE_PATH}${GUEST_CONFIGURATION_GOAL_STATE_PATH}`,
      access: {
        kind: 'action',
        action: GUEST_CONFIGURATION_AGENT_ACTIONS.goalState,
        scope: machineAt,
      },
      async handler({ request }) {
        const target = machineTargetOf(request);
        const after = integerQuery(
          queryValue(request, 'after'),
          'after',
          0,
          Number.MAX_SAFE_INTEGER,
        );
        const wait =
          integerQuery(queryValue(request, 'wait'), 'wait', 1, MAX_WAIT_SECONDS) ??
          DEFAULT_WAIT_SECONDS;
        const machine = await requireMachine(db, target);
        await reconcileIfStale(services, machine);
        if (after !== undefined && (await generationOf(db, target.machineId)) === after) {
          // Listen first, then look again: a change between the two reads still wakes us.
          const waiting = waiters.wait(target.machineId, wait * 1000, request.raw);
          if ((await generationOf(db, target.machineId)) !== after) waiting.cancel();
          if ((await waiting.done) === 'closed') return undefined;
          await reconcileIfStale(services, await requireMachine(db, target));
        }
        return goalStateOf(db, target.machineId);
      },
    },
    {
      apiVersions: AGENT_API_VERSIONS,
      method: 'POST',
      url: `${MACHINE_PATH}${GUEST_CONFIGURATION_REPORTS_PATH}`,
      access: {
        kind: 'action',
        action: GUEST_CONFIGURATION_AGENT_ACTIONS.report,
        scope: machineAt,
      },
      // Agents report every 15 minutes per assignment: operators look for their own actions.
      activityLog: false,
      bodyLimit: 4 * 1024 * 1024,
      async handler({ request }) {
        const target = machineTargetOf(request);
        const upload = parseReportUpload(bodyObject(request));
        await requireMachine(db, target);
        const now = new Date(clock.now()).toISOString();
        const accepted = await storeReports(db, target.machineId, upload.reports, now, clock.now());
        const before = (await gcMachineState(db, target.machineId)).disabledReason;
        const disabledReason = upload.disabledReason ?? null;
        if (accepted > 0) await syncGcPolicyStates(db, target.machineId, now);
        if (before !== disabledReason) {
          await updateGcMachine(db, target.machineId, { disabledReason });
          await restateMachines(db, [target.machineId], now);
        }
        return { accepted };
      },
    },
  ];
}

async function generationOf(db: Db, machineId: string): Promise<number> {
  return (await gcMachineState(db, machineId)).generation;
}

/** Generation first: a change after it makes the next poll answer at once. */
async function goalStateOf(db: Db, machineId: string): Promise<GuestConfigurationGoalState> {
  const state = await gcMachineState(db, machineId);
  const rows = await machineGcAssignments(db, machineId);
  return {
    generation: state.generation,
    assignments: rows
      // An assignment without a package to run is shown to operators as Failed, not sent.
      .filter((row) => row.provisioning_state === 'Succeeded')
      .map((row) => ({
        name: row.name,
        configurationName: row.configuration_name,
        version: row.configuration_version,
        publisher: row.publisher,
        contentUri: row.content_uri,
        contentHash: row.content_hash,
        // The agent's engine knows three; a deployment one is applied and kept applied.
        assignmentType:
          row.assignment_type === 'DeployAndAutoCorrect'
            ? 'ApplyAndAutoCorrect'
            : row.assignment_type,
        parameters: JSON.parse(row.parameters) as { name: string; value: string }[],
        frequencyMinutes: row.frequency_minutes,
        evaluationRequest: state.evaluationRequest,
      })),
  };
}

function integerQuery(
  raw: string | undefined,
  name: string,
  min: number,
  max: number,
): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw new ArmError(
      'BadRequest',
      `The query parameter '${name}' must be a whole number from ${min} to ${max}; got '${raw.slice(0, 40)}'.`,
      { target: name },
    );
  }
  return value;
}
