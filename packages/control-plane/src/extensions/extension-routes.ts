// Extension resources, their long-running operations and the agent's goal state (docs/extensions.md).
import type { RouteSpec } from '../api/route-spec.js';
import type { ArmServices } from '../resources/arm-routes.js';

export function extensionRoutes(_services: ArmServices): RouteSpec[] {
  return [];
}
