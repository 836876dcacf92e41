// The agent's goal-state long poll (B11): answers at once when the machine's generation is not
// the one the agent has, otherwise holds the request until it changes or `wait` seconds pass.
import type { RouteSpec } from '../api/route-spec.js';
import { ArmError } from '../api/arm-error.js';
import { queryValue } from '../resources/arm-request.js';
import { expireOverdueOperations } from './extension-operations.js';
import { AGENT_API_VERSIONS, EXTENSION_ACTIONS } from './extension-resource.js';
import { readGeneration, readPollStart, type PollStart } from './extension-store.js';
import { isMachineIdentity, markDelivered, readGoalState } from './goal-state.js';
import {
  MACHINE_PATH,
  machineAt,
  machineTargetOf,
  requireMachineExists,
  type ExtensionServices,
} from './extension-target.js';

const DEFAULT_WAIT_SECONDS = 50;
const MAX_WAIT_SECONDS = 60;

export function goalStateRoutes(services: ExtensionServices): RouteSpec[] {
  const { db, clock, waiters } = services;
  return [
    {
      apiVersions: AGENT_API_VERSIONS,
      method: 'GET',
      url: `${MACHINE_PATH}/extensionGoalState`,
      access: { kind: 'action', action: EXTENSION_ACTIONS.goalState, scope: machineAt },
      async handler({ request, caller }) {
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
        // Listen first, then look: a change between the read and the wait still wakes the poll.
        // One read tells whether the machine exists, its generation and whether it has an
        // overdue operation; a fleet's polls start at once, so each costs one query, not four.
        const waiting =
          after === undefined
            ? undefined
            : waiters.wait(target.machineId, wait * 1000, request.raw);
        let start: PollStart | undefined;
        try {
          start = await readPollStart(db, target.machineId, new Date(clock.now()).toISOString());
        } catch (error) {
          waiting?.cancel();
          throw error;
        }
        if (start === undefined || start.overdue) {
          // The rare paths, as they always were: the 404 naming what is missing, or the
          // overdue operations failed (which changes the generation) before the answer.
          waiting?.cancel();
          await requireMachineExists(db, target);
          await expireOverdueOperations(db, clock, { machineId: target.machineId });
          if (after !== undefined && (await readGeneration(db, target.machineId)) === after) {
            const again = waiters.wait(target.machineId, wait * 1000, request.raw);
            if ((await readGeneration(db, target.machineId)) !== after) again.cancel();
            if ((await again.done) === 'closed') return undefined;
          }
        } else if (waiting !== undefined) {
          if (start.generation !== after) waiting.cancel();
          if ((await waiting.done) === 'closed') return undefined;
        }
        const state = await readGoalState(db, target.machineId);
        // Others may look (Reader's */read); only the machine's own agent receives operations.
        // Who asks is looked up only when there is something to deliver.
        if (
          state.extensions.some((e) => e.operation !== null) &&
          (await isMachineIdentity(db, caller?.principalId, target.machineId))
        ) {
          await markDelivered(db, state, clock.now());
        }
        return state;
      },
    },
  ];
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
