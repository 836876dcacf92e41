// `POST …/machines/{m}/agentUpgradeReport`: the machine's own agent says how its last upgrade
// attempt ended; the machine's `agentUpgrade.lastAttempt*` show it, and the activity log has it
// as the outcome of the machine write that asked for it. The machine's own identity holds the
// action at its machine (Tether Connected Machine), as for extension status reports.
import { isDebianVersion, type AgentUpgradeReport } from '@tether/protocol/agent-upgrade';
import type { RouteSpec } from '../api/route-spec.js';
import type { Clock } from '../clock.js';
import {
  MACHINE_PATH,
  machineAt,
  machineTargetOf,
  requireMachine,
} from '../extensions/extension-target.js';
import { isGuid } from '../resources/arm-names.js';
import {
  bodyObject,
  invalidContent,
  rejectUnknownFields,
  requiredString,
  type JsonObject,
} from '../resources/arm-request.js';
import type { ArmServices } from '../resources/arm-routes.js';
import type { Database } from '../store/schema.js';
import type { Kysely } from 'kysely';
import { storedAgentUpgrade } from './agent-upgrade-request.js';

export const AGENT_UPGRADE_REPORT_ACTION =
  'Microsoft.HybridCompute/machines/agentUpgradeReport/action';
const MAX_MESSAGE = 2048;

export function parseAgentUpgradeReport(body: JsonObject): AgentUpgradeReport {
  rejectUnknownFields(
    body,
    ['desiredVersion', 'correlationId', 'status', 'message', 'timestamp'],
    '',
  );
  const desiredVersion = requiredString(body, 'desiredVersion', 'desiredVersion', 128);
  if (!isDebianVersion(desiredVersion)) {
    throw invalidContent('desiredVersion', 'must be a Debian version');
  }
  const correlationId = requiredString(body, 'correlationId', 'correlationId', 64);
  if (!isGuid(correlationId)) throw invalidContent('correlationId', 'must be a GUID');
  const status = requiredString(body, 'status', 'status', 16);
  if (status !== 'Success' && status !== 'Failed') {
    throw invalidContent('status', "must be 'Success' or 'Failed'");
  }
  const message = requiredString(body, 'message', 'message', MAX_MESSAGE);
  const timestamp = requiredString(body, 'timestamp', 'timestamp', 64);
  if (Number.isNaN(Date.parse(timestamp))) {
    throw invalidContent('timestamp', 'must be an ISO 8601 time');
  }
  return {
    desiredVersion,
    correlationId: correlationId.toLowerCase(),
    status,
    message,
    timestamp: new Date(timestamp).toISOString(),
  };
}

export async function recordAgentUpgradeReport(
  db: Kysely<Database>,
  clock: Clock,
  machineId: string,
  report: AgentUpgradeReport,
): Promise<JsonObject> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('machines')
      .select('properties')
      .where('id', '=', machineId)
      .executeTakeFirstOrThrow();
    const properties = JSON.parse(row.properties) as JsonObject;
    const agentUpgrade = {
      ...storedAgentUpgrade(properties),
      lastAttemptDesiredVersion: report.desiredVersion,
      lastAttemptTimestamp: report.timestamp,
      lastAttemptStatus: report.status,
      lastAttemptMessage: report.message,
      lastAttemptCorrelationId: report.correlationId,
    };
    await trx
      .updateTable('machines')
      .set({
        properties: JSON.stringify({ ...properties, agentUpgrade }),
        updated_at: new Date(clock.now()).toISOString(),
      })
      .where('id', '=', machineId)
      .execute();
    return agentUpgrade;
  });
}

export function agentUpgradeReportRoutes(services: ArmServices): RouteSpec[] {
  const { db, clock } = services;
  return [
    {
      apiVersions: ['2024-07-10'],
      method: 'POST',
      url: `${MACHINE_PATH}/agentUpgradeReport`,
      access: { kind: 'action', action: AGENT_UPGRADE_REPORT_ACTION, scope: machineAt },
      // Logged below as the upgrade's outcome, not as a report accepted.
      activityLog: false,
      async handler({ request, caller, correlationId }) {
        const target = machineTargetOf(request);
        await requireMachine(db, target);
        const report = parseAgentUpgradeReport(bodyObject(request));
        const agentUpgrade = await recordAgentUpgradeReport(db, clock, target.machineId, report);
        await services.activityLog.record({
          correlationId,
          caller: caller?.name ?? 'unknown',
          operationName: 'Microsoft.HybridCompute/machines/write',
          status: report.status === 'Success' ? 'Succeeded' : 'Failed',
          subStatus: report.status === 'Success' ? 'AgentUpgraded' : 'AgentUpgradeFailed',
          resourceId: target.machineId,
          httpMethod: request.method,
          clientIp: request.ip,
          properties: {
            agentUpgradeCorrelationId: report.correlationId,
            desiredVersion: report.desiredVersion,
            message: report.message,
          },
        });
        return { agentUpgrade };
      },
    },
  ];
}
