// /healthz (the process answers) and /readyz (and its database does), for load balancers and
// service managers: no token, and nothing in the answer beyond the verdict.
import { sql, type Kysely } from 'kysely';
import type { RouteSpec } from '../api/route-spec.js';
import type { Database } from '../store/schema.js';

/** `subscribed`: whether this node hears every other node's changes (always, for one node). */
export function healthRoutes(
  db: Kysely<Database>,
  subscribed: () => boolean = () => true,
): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/healthz',
      access: { kind: 'public' },
      handler: ({ reply }) => {
        void reply.header('cache-control', 'no-store');
        return Promise.resolve({ status: 'ok' });
      },
    },
    {
      method: 'GET',
      url: '/readyz',
      access: { kind: 'public' },
      handler: async ({ reply }) => {
        void reply.header('cache-control', 'no-store');
        try {
          await sql`select 1`.execute(db);
          if (subscribed()) return { status: 'ready' };
        } catch {
          // Why the database cannot be reached is for the server's log, not for anonymous callers.
        }
        void reply.code(503);
        return { status: 'unavailable' };
      },
    },
  ];
}
