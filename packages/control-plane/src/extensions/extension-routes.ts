// Extension resources, their long-running operations and the agent's goal state (docs/extensions.md).
import type { RouteSpec } from '../api/route-spec.js';
import type { ArmServices } from '../resources/arm-routes.js';
import { extensionReadRoutes } from './extension-read-routes.js';
import { extensionStatusRoutes } from './extension-status-routes.js';
import { extensionServicesOf } from './extension-target.js';
import { extensionWriteRoutes } from './extension-write-routes.js';
import { goalStateRoutes } from './goal-state-routes.js';
import { operationStatusRoutes } from './operation-status-routes.js';

export function extensionRoutes(armServices: ArmServices): RouteSpec[] {
  const services = extensionServicesOf(armServices);
  return [
    ...extensionReadRoutes(services),
    ...extensionWriteRoutes(services),
    ...operationStatusRoutes(services),
    ...goalStateRoutes(services),
    ...extensionStatusRoutes(services),
  ];
}
