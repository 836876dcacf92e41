// Every fuzz target, in report order.
import type { FuzzTarget } from './fuzz-target.js';
import { AGENT_INPUT_TARGETS } from './targets/agent-input-targets.js';
import { HTTP_TARGETS } from './targets/http-targets.js';
import { LOCAL_CHANGE_TARGETS } from './targets/local-change-targets.js';
import { PURE_TARGETS } from './targets/pure-targets.js';
import { TEXT_TARGETS } from './targets/text-targets.js';

export const ALL_TARGETS: readonly FuzzTarget[] = [
  ...TEXT_TARGETS,
  ...PURE_TARGETS,
  ...AGENT_INPUT_TARGETS,
  ...LOCAL_CHANGE_TARGETS,
  ...HTTP_TARGETS,
];
