// Where the built programs are: the e2e tests run exactly what a user runs (`bin/tether.cjs`).
import { fileURLToPath } from 'node:url';

/** packages/control-plane/bin/tether.cjs, from packages/e2e/dist/harness/. */
export const TETHER_BIN = fileURLToPath(
  new URL('../../../control-plane/bin/tether.cjs', import.meta.url),
);

/** packages/e2e/dist/clients/, where the compiled client programs live. */
export const CLIENTS_DIR = fileURLToPath(new URL('../clients/', import.meta.url));
