// Every Resource Manager route Tether serves (resources, access control, activity log), with
// the services they share; the server registers this list through registerRoutes.
import type { Kysely } from 'kysely';
import type { SqlActivityLog } from '../activity/sql-activity-log.js';
import type { RouteSpec } from '../api/route-spec.js';
import type { Clock } from '../clock.js';
import type { AuthorizationEngine } from '../rbac/types.js';
import type { Database } from '../store/schema.js';
import { subscriptionRoutes } from './subscription-routes.js';

export interface ArmServices {
  db: Kysely<Database>;
  authorizer: AuthorizationEngine;
  clock: Clock;
  activityLog: SqlActivityLog;
  /** Base URL clients reach this server at; nextLinks are built on it. */
  publicUrl: string;
}

export function armRoutes(services: ArmServices): RouteSpec[] {
  return [...subscriptionRoutes(services)];
}
