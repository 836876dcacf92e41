// Microsoft.Azure.Monitor/AzureMonitorLinuxAgent: the lifecycle commands only check the
// settings and report success; `run` is the hosted process that samples and sends metrics.
import type { HandlerCommand, HandlerProgram } from '../handler-kit/handler-main.js';
import { runMonitor } from './monitor-loop.js';
import { parseMonitorSettings } from './monitor-settings.js';

export const MONITOR_NAME = 'Microsoft.Azure.Monitor.AzureMonitorLinuxAgent';

const succeed = (operation: string): HandlerCommand => ({
  kind: 'operation',
  run: () => Promise.resolve({ status: 'success', code: 0, message: `${operation} succeeded` }),
});

export const monitorProgram: HandlerProgram = {
  name: MONITOR_NAME,
  commands: {
    install: succeed('Install'),
    update: succeed('Update'),
    disable: succeed('Disable'),
    uninstall: succeed('Uninstall'),
    enable: {
      kind: 'operation',
      run(context) {
        const { intervalSeconds } = parseMonitorSettings(context.settings().publicSettings);
        return Promise.resolve({
          status: 'success',
          code: 0,
          message: `Enable succeeded: sampling every ${intervalSeconds} s`,
        });
      },
    },
    run: { kind: 'hosted', run: runMonitor },
  },
};
