// `tether machine metrics`: the monitoring extension's figures for one machine as a table, and
// on a terminal a one-line chart per metric beneath it.
import type { Command } from 'commander';
import { API_VERSIONS } from '../client/api-versions.js';
import type { CliDeps } from '../client/cli-deps.js';
import {
  defineAction,
  outputOption,
  subscriptionOption,
  type OutputOptions,
  type SubscriptionOptions,
} from '../client/command-kit.js';
import {
  bucketRows,
  formatFigure,
  parseInterval,
  sparkline,
  type MetricRow,
  type MetricSeries,
} from '../client/metric-series.js';
import type { Column } from '../client/output-format.js';
import { parseOffset, parseResourceGroupName, parseResourceName } from '../client/parsers.js';
import { machineId, scopePath } from '../client/scope.js';

interface MetricsOptions extends OutputOptions, SubscriptionOptions {
  resourceGroup: string;
  machineName: string;
  metric?: string[];
  interval: number;
  offset: number;
}

interface MetricsAnswer {
  value?: {
    name?: { value?: string };
    unit?: string;
    timeseries?: { data?: { timeStamp: string; average?: number }[] }[];
  }[];
}

const HOUR_MS = 3_600_000;

export function registerMetrics(machine: Command, deps: CliDeps): void {
  machine
    .command('metrics')
    .description(
      "Show a machine's CPU, memory and disk figures, as sent by its AzureMonitorLinuxAgent extension.",
    )
    .requiredOption('-g, --resource-group <name>', 'resource group', parseResourceGroupName)
    .requiredOption('--machine-name <name>', 'machine name', parseResourceName)
    .option(
      '--metric <name...>',
      "metrics to show, e.g. 'Percentage CPU' 'Used Memory Bytes'; default all",
    )
    .option(
      '--interval <interval>',
      'average per interval: 1m to 1d, e.g. 5m, 1h',
      parseInterval,
      5 * 60_000,
    )
    .option(
      '--offset <##d##h>',
      'how far back from now, e.g. 6h or 1d; default 1h',
      parseOffset,
      HOUR_MS,
    )
    .addOption(subscriptionOption())
    .addOption(outputOption())
    .action(
      defineAction<MetricsOptions>(deps, async (o, c) => {
        const session = await c.session(o.subscription);
        const id = machineId(session.subscriptionId(), o.resourceGroup, o.machineName);
        const now = c.deps.clock.now();
        const answer = await session.client.get<MetricsAnswer>(
          `${scopePath(id)}/providers/Microsoft.Insights/metrics`,
          {
            'api-version': API_VERSIONS.machines,
            timespan: `${new Date(now - o.offset).toISOString()}/${new Date(now).toISOString()}`,
            ...(o.metric === undefined ? {} : { metricnames: o.metric.join(',') }),
          },
        );
        const series: MetricSeries[] = (answer.value ?? []).map((metric) => ({
          name: metric.name?.value ?? '',
          unit: metric.unit ?? '',
          points: (metric.timeseries ?? []).flatMap((t) => t.data ?? []),
        }));
        const rows = bucketRows(series, o.interval);
        if (rows.length === 0) {
          c.warn(
            `${o.machineName} sent no figures in that time: is the Microsoft.Azure.Monitor/AzureMonitorLinuxAgent extension installed and the machine connected? ('tether machine extension list -g ${o.resourceGroup} --machine-name ${o.machineName}')`,
          );
        }
        if (o.output === 'json') {
          c.print(
            rows.map((row) => ({ timeStamp: row.timeStamp, ...row.values })),
            o.output,
            [],
          );
          return;
        }
        const columns: Column<MetricRow>[] = [
          { header: 'Time', value: (row) => row.timeStamp },
          ...series.map((metric) => ({
            header: metric.name,
            value: (row: MetricRow) => formatFigure(metric.unit, row.values[metric.name]),
          })),
        ];
        c.print(rows, o.output, columns);
        if (c.deps.stdoutIsTerminal() && rows.length > 1) {
          c.deps.stdout(`\n${charts(series, rows)}`);
        }
      }),
    );
}

/** One line per metric: name, chart, lowest and highest. */
function charts(series: readonly MetricSeries[], rows: readonly MetricRow[]): string {
  const width = Math.max(...series.map((metric) => metric.name.length));
  return series
    .map((metric) => {
      const values = rows.map((row) => row.values[metric.name]);
      const present = values.filter((v): v is number => v !== undefined);
      if (present.length === 0) return `${metric.name.padEnd(width)}  (no figures)\n`;
      const low = formatFigure(metric.unit, Math.min(...present));
      const high = formatFigure(metric.unit, Math.max(...present));
      return `${metric.name.padEnd(width)}  ${sparkline(values)}  ${low} … ${high}\n`;
    })
    .join('');
}
