// Every `/v1.0` directory route, each declared with the Microsoft.Authorization/directory
// action it needs at the tenant root.
import type { RouteSpec } from '../api/route-spec.js';
import type { DirectoryRouteServices } from './directory-route-services.js';
import { directoryObjectRoutes } from './directory-object-routes.js';
import { groupRoutes } from './group-routes.js';
import { servicePrincipalRoutes } from './service-principal-routes.js';
import { userRoutes } from './user-routes.js';

export type { DirectoryRouteServices } from './directory-route-services.js';

export function directoryRoutes(services: DirectoryRouteServices): RouteSpec[] {
  return [
    ...servicePrincipalRoutes(services),
    ...userRoutes(services),
    ...groupRoutes(services),
    ...directoryObjectRoutes(services),
  ];
}
