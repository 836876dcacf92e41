// The AzureMonitorLinuxAgent handler program: `node handler.cjs install|…|enable|disable`, and
// `node handler.cjs run`, the hosted process.
import { runHandler } from '../handler-kit/handler-main.js';
import { monitorProgram } from './monitor-handler.js';

void runHandler(monitorProgram, process.argv.slice(2)).then((code) => {
  // The hosted loop leaves sockets and timers behind when it stops: exit rather than wait.
  process.exit(code);
});
