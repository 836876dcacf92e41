// Every fault of the suite, by the name `npm run faults -- <name>` takes.
import type { FaultOptions, Verdict } from '../support/verdict.js';
import { run as agentAway } from './agent-away.js';
import { run as diskFull } from './disk-full.js';
import { run as nodeKill } from './node-kill.js';
import { run as postgresRestart } from './postgres-restart.js';
import { run as sqliteKill } from './sqlite-kill.js';

export const FAULTS: Record<string, (options: FaultOptions) => Promise<Verdict>> = {
  'agent-away': agentAway,
  'disk-full': diskFull,
  'node-kill': nodeKill,
  'postgres-restart': postgresRestart,
  'sqlite-kill': sqliteKill,
};
