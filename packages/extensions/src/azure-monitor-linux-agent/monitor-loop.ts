// The hosted process: every interval, take a sample and send all unsent ones. Stops at once on
// SIGTERM or SIGINT, abandoning a request in flight; unsent samples live only in memory.
import { HandlerError } from '../handler-kit/handler-error.js';
import type { HandlerContext } from '../handler-kit/handler-main.js';
import { HimdsTokenClient } from './himds-token-client.js';
import { MetricsUploader } from './metrics-uploader.js';
import { parseMonitorSettings } from './monitor-settings.js';
import { SystemSampler } from './system-sampler.js';

export async function runMonitor(context: HandlerContext): Promise<number> {
  const env = process.env;
  const required = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === '') {
      throw new HandlerError(
        'ERR_HANDLER_ENVIRONMENT',
        `${name} is not set; the extension service sets it for hosted processes of a connected machine.`,
      );
    }
    return value;
  };
  const identityEndpoint = required('IDENTITY_ENDPOINT');
  const endpoint = required('TETHER_ENDPOINT');
  const resourceId = required('TETHER_RESOURCE_ID');
  const { intervalSeconds } =
    context.sequence === undefined
      ? parseMonitorSettings({})
      : parseMonitorSettings(context.settings().publicSettings);

  const uploader = new MetricsUploader(
    MetricsUploader.urlFor(endpoint, resourceId),
    new HimdsTokenClient(identityEndpoint, endpoint),
  );
  const sampler = new SystemSampler();
  const stop = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let lastReport = '';

  const tick = async (): Promise<void> => {
    uploader.add(await sampler.sample(new Date()));
    const outcome = await uploader.flush(stop.signal);
    if (stop.signal.aborted) return;
    // One line per change of state, not one per failed minute.
    const report =
      outcome.kind === 'sent'
        ? 'sending metrics'
        : `${outcome.kind === 'kept' ? 'keeping' : 'dropped'} ${outcome.count} samples: ${outcome.reason}`;
    if (outcome.kind !== 'sent' || report !== lastReport) context.log(report);
    lastReport = report;
  };
  const schedule = (): void => {
    timer = setTimeout(() => {
      tick()
        .catch((error: unknown) => context.log(`sample failed: ${(error as Error).message}`))
        .finally(() => {
          if (!stop.signal.aborted) schedule();
        });
    }, intervalSeconds * 1000);
  };

  context.log(`sampling every ${intervalSeconds} s for ${resourceId}`);
  return new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      context.log(`${signal}: stopping with ${uploader.pending} unsent samples`);
      stop.abort();
      clearTimeout(timer);
      resolve(0);
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    schedule();
  });
}
