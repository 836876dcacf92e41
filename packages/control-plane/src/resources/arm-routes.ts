// Every Resource Manager route Tether serves (resources, access control, activity log), with
// the services they share; the server registers this list through registerRoutes.
import type { Kysely } from 'kysely';
import type { SqlActivityLog } from '../activity/sql-activity-log.js';
import { activityRoutes } from '../activity/activity-routes.js';
import { agentPackageRoutes } from '../agent-upgrade/agent-package-routes.js';
import { agentUpgradeReportRoutes } from '../agent-upgrade/agent-upgrade-report-routes.js';
import type { RouteSpec } from '../api/route-spec.js';
import { accessRoutes } from '../authorization/access-routes.js';
import { checkAccessRoutes } from '../authorization/check-access-routes.js';
import { permissionsRoutes } from '../authorization/permissions-routes.js';
import { roleAssignmentRoutes } from '../authorization/role-assignment-routes.js';
import { roleDefinitionRoutes } from '../authorization/role-definition-routes.js';
import type { Clock } from '../clock.js';
import { extensionRoutes } from '../extensions/extension-routes.js';
import { guestConfigurationRoutes } from '../guest-configuration/gc-routes.js';
import { repositoryRoutes } from '../extensions/repository-routes.js';
import type { CredentialForgetter } from '../machines/machine-identity-store.js';
import type { PolicySource } from '../guest-configuration/policy-source.js';
import type { MachineTimings } from '../machines/machine-timings.js';
import { metricsRoutes } from '../metrics/metrics-routes.js';
import { policyAssignmentRoutes } from '../policy-service/policy-assignment-routes.js';
import { policyDefinitionRoutes } from '../policy-service/policy-definition-routes.js';
import { policyExemptionRoutes } from '../policy-service/policy-exemption-routes.js';
import { rootAccessRoutes } from '../root-access/root-access-routes.js';
import type { AuthorizationEngine } from '../rbac/types.js';
import type { Database } from '../store/schema.js';
import { machineRoutes } from './machine-routes.js';
import { providerRoutes } from './provider-routes.js';
import { resourceGroupRoutes } from './resource-group-routes.js';
import { resourceListRoutes } from './resource-list-routes.js';
import { subscriptionRoutes } from './subscription-routes.js';

export interface ArmServices {
  db: Kysely<Database>;
  authorizer: AuthorizationEngine;
  clock: Clock;
  activityLog: SqlActivityLog;
  /** Base URL clients reach this server at; nextLinks are built on it. */
  publicUrl: string;
  /** Items per page of every list; tests make it small to exercise paging. */
  pageSize?: number;
  /** Heartbeat, status and credential timings of machines; defaults when omitted. */
  machineTimings?: Readonly<MachineTimings>;
  /** Told when a machine identity or key goes, so that its cached tokens stop working at once. */
  tokens?: CredentialForgetter;
  /** Which policies apply to a machine, for guest configuration and compliance. */
  policy?: PolicySource;
}

export function armRoutes(services: ArmServices): RouteSpec[] {
  const routes: RouteSpec[] = [
    ...subscriptionRoutes(services),
    ...resourceGroupRoutes(services),
    ...resourceListRoutes(services),
    ...machineRoutes(services),
    ...extensionRoutes(services),
    ...repositoryRoutes(services),
    ...agentPackageRoutes(services),
    ...agentUpgradeReportRoutes(services),
    ...guestConfigurationRoutes(services),
    ...metricsRoutes(services),
    ...roleAssignmentRoutes(services),
    ...roleDefinitionRoutes(services),
    ...policyDefinitionRoutes(services),
    ...policyAssignmentRoutes(services),
    ...policyExemptionRoutes(services),
    ...permissionsRoutes(services),
    ...accessRoutes(services),
    ...checkAccessRoutes(services),
    ...rootAccessRoutes(services),
    ...activityRoutes(services),
  ];
  // The provider list describes every route above, and itself.
  routes.push(...providerRoutes(services, () => routes));
  return routes;
}
