// The responses whose handler is running now, whichever path answers them (a route handler, as
// Fastify reports it, or the lean heartbeat path): a handler whose client left may still be
// working, and a stopping server keeps its store open until it returns.
import type { ServerResponse } from 'node:http';

export const runningHandlers = new WeakSet<ServerResponse>();
