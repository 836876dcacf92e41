// A node-postgres pool whose wait for a connection, when it ends with every connection of the
// pool established and in use, says so (StoreBusyError): the node is overloaded, not cut off
// from its database. Connections still being opened do not count as in use: while PostgreSQL
// does not answer, the pool fills with them, and a request queued behind them was turned away
// by the database, not by a busy node.
import type { Pool } from 'pg';
import type { PostgresPool } from 'kysely';
import { StoreBusyError } from './store-unavailable.js';

export function busyAwarePool(pool: Pool, size: number, waitMs: number): PostgresPool {
  // The pool counts a client from the moment it starts to connect; only those that did count
  // here, until the pool removes them.
  const established = new Set<object>();
  pool.on('connect', (client) => established.add(client));
  pool.on('remove', (client) => established.delete(client));
  return {
    async connect() {
      try {
        return await pool.connect();
      } catch (error) {
        if (established.size >= size && pool.idleCount === 0) {
          throw new StoreBusyError(size, waitMs, { cause: error });
        }
        throw error;
      }
    },
    end: () => pool.end(),
  };
}
