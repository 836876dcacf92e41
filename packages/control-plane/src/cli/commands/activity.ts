// `tether activity list`: the activity log of changes and denied changes, with the flags of
// `az monitor activity-log list` (time window, resource group or resource, caller, status), and
// the local user behind each change made on a machine itself.
import type { Command } from 'commander';
import { API_VERSIONS } from '../client/api-versions.js';
import { processCliDeps, type CliDeps } from '../client/cli-deps.js';
import { usageError } from '../client/cli-error.js';
import {
  configureGroup,
  defineAction,
  outputOption,
  subscriptionOption,
  type OutputOptions,
  type SubscriptionOptions,
} from '../client/command-kit.js';
import { odataString } from '../client/odata.js';
import type { Column } from '../client/output-format.js';
import {
  parseDateTime,
  parseOffset,
  parsePositiveInteger,
  parseResourceGroupName,
  parseScopeArgument,
} from '../client/parsers.js';
import type { ActivityEvent } from '../client/wire-types.js';

interface ListOptions extends OutputOptions, SubscriptionOptions {
  resourceGroup?: string;
  resourceId?: string;
  startTime?: Date;
  endTime?: Date;
  offset?: number;
  caller?: string;
  status?: string;
  correlationId?: string;
  maxEvents: number;
}

const DEFAULT_OFFSET_MS = 6 * 3_600_000;
/** A change made with `azcmagent config` on the machine, reported by its agent. */
const LOCAL_CONFIGURATION_WRITE = 'Microsoft.HybridCompute/machines/localConfiguration/write';

const EVENT_COLUMNS: readonly Column<ActivityEvent>[] = [
  { header: 'Time', value: (e) => e.eventTimestamp },
  { header: 'Caller', value: (e) => e.caller },
  { header: 'CallerName', value: (e) => e.callerDisplayName },
  { header: 'Operation', value: (e) => e.operationName.value },
  { header: 'Status', value: (e) => e.status.value },
  {
    header: 'SubStatus',
    value: (e) => (typeof e.subStatus === 'string' ? e.subStatus : e.subStatus?.value),
  },
  { header: 'Resource', value: (e) => e.resourceId },
  { header: 'Detail', value: detail },
];

/** What changed on the machine itself, and which local user changed it (the uid decides). */
function detail(event: ActivityEvent): string {
  const p = event.properties ?? {};
  if (
    event.operationName.value !== LOCAL_CONFIGURATION_WRITE ||
    typeof p['localUserId'] !== 'number'
  )
    return '';
  const names = [
    typeof p['localUserName'] === 'string' ? p['localUserName'] : undefined,
    typeof p['sudoUserId'] === 'number' ? `sudo by uid ${p['sudoUserId']}` : undefined,
  ].filter((part) => part !== undefined);
  const who = `uid ${p['localUserId']}${names.length > 0 ? ` (${names.join(', ')})` : ''}`;
  return `${who}: ${String(p['property'])} ${String(p['oldValue'])} -> ${String(p['newValue'])}`;
}

export function register(program: Command, deps: CliDeps = processCliDeps()): void {
  const activity = configureGroup(program.command('activity'), deps).description(
    'The activity log: every change and every denied change (az monitor activity-log).',
  );
  activity
    .command('list')
    .description('List activity-log events, newest first (default: the last 6 hours).')
    .option(
      '-g, --resource-group <name>',
      'only events in this resource group',
      parseResourceGroupName,
    )
    .option('--resource-id <id>', 'only events about this resource', parseScopeArgument)
    .option(
      '--start-time <time>',
      'start of the window (ISO 8601; UTC unless a zone is given)',
      parseDateTime,
    )
    .option('--end-time <time>', 'end of the window (default: now)', parseDateTime)
    .option(
      '--offset <##d##h>',
      'length of the window, from --start-time or back from --end-time (default 6h)',
      parseOffset,
    )
    .option('--caller <caller>', 'only events by this caller (appId or user principal name)')
    .option('--status <status>', 'only events with this status, such as Succeeded or Failed')
    .option('--correlation-id <id>', 'only events of this request')
    .option('--max-events <n>', 'at most this many events', parsePositiveInteger, 50)
    .addOption(subscriptionOption())
    .addOption(outputOption())
    .action(
      defineAction<ListOptions>(deps, async (o, c) => {
        if (o.resourceGroup !== undefined && o.resourceId !== undefined) {
          throw usageError(
            'pass either --resource-group or --resource-id, not both.',
            '--resource-id',
          );
        }
        const { start, end } = timeWindow(o, deps.clock.now());
        const session = await c.session(o.subscription);
        const clauses = [
          `eventTimestamp ge ${odataString(start.toISOString())}`,
          `eventTimestamp le ${odataString(end.toISOString())}`,
          ...(o.resourceGroup === undefined
            ? []
            : [`resourceGroupName eq ${odataString(o.resourceGroup)}`]),
          ...(o.resourceId === undefined ? [] : [`resourceUri eq ${odataString(o.resourceId)}`]),
        ];
        const path = `/subscriptions/${session.subscriptionId()}/providers/Microsoft.Insights/eventtypes/management/values`;
        const query = { 'api-version': API_VERSIONS.activityLog, $filter: clauses.join(' and ') };
        const filtering =
          o.caller !== undefined || o.status !== undefined || o.correlationId !== undefined;
        const events = await session.client.list<ActivityEvent>(
          path,
          query,
          filtering ? undefined : o.maxEvents,
        );
        const same = (a: string | undefined, b: string | undefined): boolean =>
          b === undefined || a?.toLowerCase() === b.toLowerCase();
        const shown = events
          .filter(
            (e) =>
              same(e.caller, o.caller) &&
              same(e.status.value, o.status) &&
              same(e.correlationId, o.correlationId),
          )
          .slice(0, o.maxEvents);
        c.print(shown, o.output, EVENT_COLUMNS);
      }),
    );
}

/** az's rules: start and end win over offset; offset runs forward from start or back from end. */
export function timeWindow(
  options: Pick<ListOptions, 'startTime' | 'endTime' | 'offset'>,
  now: number,
): { start: Date; end: Date } {
  const offset = options.offset ?? DEFAULT_OFFSET_MS;
  const { startTime, endTime } = options;
  const window =
    startTime !== undefined && endTime !== undefined
      ? { start: startTime, end: endTime }
      : startTime !== undefined
        ? { start: startTime, end: new Date(startTime.getTime() + offset) }
        : { start: new Date((endTime?.getTime() ?? now) - offset), end: endTime ?? new Date(now) };
  if (window.start.getTime() >= window.end.getTime()) {
    throw usageError(
      `--start-time ${window.start.toISOString()} is not before --end-time ${window.end.toISOString()}.`,
      '--start-time',
    );
  }
  return window;
}
