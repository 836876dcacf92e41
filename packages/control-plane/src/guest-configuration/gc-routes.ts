// Guest configuration: operators' assignments and their reports, the agent's calls, and the
// compliance (policy states) they feed.
import type { RouteSpec } from '../api/route-spec.js';
import { policyStatesRoutes } from '../compliance/policy-states-routes.js';
import type { ArmServices } from '../resources/arm-routes.js';
import { gcAgentRoutes } from './gc-agent-routes.js';
import { gcAssignmentRoutes } from './gc-assignment-routes.js';
import { gcReportRoutes } from './gc-report-routes.js';
import { gcServicesOf } from './gc-services.js';

export function guestConfigurationRoutes(armServices: ArmServices): RouteSpec[] {
  const services = gcServicesOf(armServices);
  return [
    ...gcAssignmentRoutes(services),
    ...gcReportRoutes(services),
    ...gcAgentRoutes(services),
    ...policyStatesRoutes(services),
  ];
}
