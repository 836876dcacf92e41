// Starts the guest configuration service for `azcmagent service run gc`: as root on a server,
// with the machine identity, the root-trusted CA and the trusted publisher keys; stops on SIGTERM.
import { mkdirSync } from 'node:fs';
import { appendLogLine } from '../agent-log.js';
import { systemClock, type Clock } from '../clock.js';
import { AgentError } from '../errors.js';
import { readTrustedKeys } from '../extensions/host/trusted-publishers.js';
import { trustedOwnerUid } from '../extensions/host/trusted-owner.js';
import { MachineCredential } from '../extensions/service/machine-credential.js';
import { HttpsGuestConfigurationApi } from '../guest-config/service/guest-configuration-api.js';
import { GuestConfigurationService } from '../guest-config/service/guest-configuration-service.js';
import {
  HimdsNoticeClient,
  NoticeDrivenSource,
} from '../extensions/service/notice-driven-source.js';
import { himdsPortSetting } from '../himds/himds-port.js';
import { engineRunner } from '../guest-config/service/run-configuration.js';
import { writeServiceStatus, type ServiceStatus } from '../himds/service-status.js';
import { requireAgentState } from '../identity/agent-state.js';
import { expectedKeyOwner } from '../identity/himds-account.js';
import { assertKeyFileSafe } from '../identity/key-file-check.js';
import { readTrustedCa } from '../identity/trusted-ca.js';
import { localConfigEgress } from '../network/egress.js';
import type { AgentPaths } from '../paths.js';
import { systemScheduler } from '../scheduler.js';
import { runUntilSignalled, secondsSetting } from './service-lifecycle.js';
import type { CommandContext } from './command-module.js';

/**
 * `serviceClock` is what the service ages its cache by, schedules and dates its reports with; the
 * machine credential and the log keep the system's. Only a test moves it (test-support/
 * gc-service-shifted-clock.ts), so weeks without contact pass in seconds.
 */
export async function runGcService(
  context: CommandContext,
  paths: AgentPaths,
  serviceClock: Clock = systemClock,
): Promise<number> {
  if (paths.root === '/' && process.geteuid?.() !== 0) {
    throw new AgentError(
      'ERR_NOT_ROOT',
      `The guest configuration service runs as root: it reads protected system files and may correct settings (this process runs as uid ${process.geteuid?.() ?? 'unknown'}). Run it as root: 'sudo azcmagent service run gc'.`,
    );
  }
  const state = requireAgentState(paths);
  assertKeyFileSafe(paths.machineKey, expectedKeyOwner(paths, context.env));
  const ca = readTrustedCa(paths);
  const frequencyOverrideMs = secondsSetting(context.env, 'AZCMAGENT_GC_FREQUENCY_SECONDS');
  const himdsPort = himdsPortSetting(context.env.AZCMAGENT_HIMDS_PORT);
  try {
    mkdirSync(paths.policyLogsDir, { recursive: true, mode: 0o755 });
  } catch {
    // appendLogLine skips a log it cannot write; stderr still has every line
  }
  const log = (line: string): void => {
    const now = systemClock.now();
    context.out.stderr(`${new Date(now).toISOString()} gc: ${line}\n`);
    appendLogLine(paths.guestConfigServiceLog, now, line);
  };
  const ownerUid = trustedOwnerUid(paths);
  const egress = localConfigEgress(paths, { trustedOwnerUid: ownerUid });
  const credential = new MachineCredential(
    {
      endpoint: state.endpoint,
      tenantId: state.tenantId,
      principalId: state.principalId,
      ca,
      egress,
    },
    paths.machineKey,
    systemClock,
  );
  const api = new HttpsGuestConfigurationApi(
    {
      endpoint: state.endpoint,
      ca,
      egress,
      subscriptionId: state.subscriptionId,
      resourceGroup: state.resourceGroup,
      resourceName: state.resourceName,
    },
    credential,
  );
  const statusFile = paths.serviceStatus('gc');
  const goalStates = new NoticeDrivenSource({
    api,
    notices: new HimdsNoticeClient(himdsPort, expectedKeyOwner(paths, context.env).uid),
    service: 'guestConfiguration',
    log,
  });
  const service = new GuestConfigurationService({
    paths,
    api,
    goalStates,
    clock: serviceClock,
    scheduler: systemScheduler,
    random: Math.random,
    log,
    configOwnerUid: ownerUid,
    evaluator: {
      trustedKeys: (publisher) => readTrustedKeys(paths, publisher, { ownerUid, log }),
      run: engineRunner(paths.root),
    },
    ...(frequencyOverrideMs === undefined ? {} : { frequencyOverrideMs }),
    writeStatus: ({ status, lastError, detail }) => {
      const record: ServiceStatus = {
        service: 'gc',
        status,
        pid: process.pid,
        updatedAt: new Date(systemClock.now()).toISOString(),
        lastError,
        goalStateChanges: goalStates.changes,
        ...(detail === undefined ? {} : { detail }),
      };
      writeServiceStatus(statusFile, record);
    },
    onReady: () => {
      // Logged before the line on stdout, which is what callers wait for.
      log(`running for ${state.resourceId}`);
      context.out.stdout(`guest configuration service running for ${state.resourceId}\n`);
    },
  });
  service.start();
  return runUntilSignalled(service, log);
}
