// Machine metrics sent by the monitoring agent, served in the Azure Monitor shape (docs/extensions.md).
import type { RouteSpec } from '../api/route-spec.js';
import type { ArmServices } from '../resources/arm-routes.js';

export function metricsRoutes(_services: ArmServices): RouteSpec[] {
  return [];
}
