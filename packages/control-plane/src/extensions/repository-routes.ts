// The signed extension package repository (docs/extensions.md, B1).
import type { RouteSpec } from '../api/route-spec.js';
import type { ArmServices } from '../resources/arm-routes.js';

export function repositoryRoutes(_services: ArmServices): RouteSpec[] {
  return [];
}
