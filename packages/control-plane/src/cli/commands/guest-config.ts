// `tether guest-config`: the guest configuration assignments on machines — their compliance,
// each rule's state and reasons, and their report history — and the signed packages they run.
import type { Command } from 'commander';
import { isRecord } from '../client/api-error.js';
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
import { cellText, formatTable, type Column } from '../client/output-format.js';
import { parseResourceGroupName, parseResourceName } from '../client/parsers.js';
import { machineId, resourceGroupScope, scopePath, subscriptionScope } from '../client/scope.js';
import { registerGuestConfigPackages } from './guest-config-package.js';

const QUERY = { 'api-version': API_VERSIONS.guestConfiguration };
const COLLECTION = '/providers/Microsoft.GuestConfiguration/guestConfigurationAssignments';

interface Reason {
  phrase?: string;
  code?: string;
}

interface RuleResult {
  resourceId: string;
  complianceStatus: string;
  reasons?: Reason[];
}

interface GcAssignment {
  id: string;
  name: string;
  properties: {
    targetResourceId?: string;
    guestConfiguration?: { name?: string; version?: string; assignmentType?: string };
    complianceStatus?: string;
    lastComplianceStatusChecked?: string | null;
    latestAssignmentReport?: { endTime?: string; resources?: RuleResult[] } | null;
  };
}

interface GcReport {
  name: string;
  properties: {
    complianceStatus?: string;
    startTime?: string;
    endTime?: string;
    details?: { operationType?: string; resources?: RuleResult[] };
  };
}

interface WhereOptions extends SubscriptionOptions, OutputOptions {
  resourceGroup?: string;
  machineName?: string;
}

const ASSIGNMENT_COLUMNS: readonly Column<GcAssignment>[] = [
  { header: 'Name', value: (a) => a.name },
  { header: 'Machine', value: (a) => a.properties.targetResourceId?.split('/').at(-1) },
  { header: 'Configuration', value: (a) => a.properties.guestConfiguration?.name },
  { header: 'Type', value: (a) => a.properties.guestConfiguration?.assignmentType },
  { header: 'Status', value: (a) => a.properties.complianceStatus },
  { header: 'LastChecked', value: (a) => a.properties.lastComplianceStatusChecked },
];

const RULE_COLUMNS: readonly Column<RuleResult>[] = [
  { header: 'Rule', value: (r) => r.resourceId },
  { header: 'State', value: (r) => r.complianceStatus },
  {
    header: 'Reasons',
    value: (r) => (r.reasons ?? []).map((reason) => reason.phrase ?? reason.code).join('; '),
  },
];

const failing = (rules: readonly RuleResult[] | undefined): RuleResult[] =>
  (rules ?? []).filter((r) => r.complianceStatus !== 'Compliant');

const REPORT_COLUMNS: readonly Column<GcReport>[] = [
  { header: 'Time', value: (r) => r.properties.endTime ?? r.properties.startTime },
  { header: 'State', value: (r) => r.properties.complianceStatus },
  { header: 'Operation', value: (r) => r.properties.details?.operationType },
  {
    header: 'RulesFailing',
    value: (r) => {
      const rules = failing(r.properties.details?.resources);
      return rules.length === 0
        ? '0'
        : `${rules.length}: ${rules.map((x) => x.resourceId).join(', ')}`;
    },
  },
];

export function register(program: Command, deps: CliDeps = processCliDeps()): void {
  const group = configureGroup(program.command('guest-config'), deps).description(
    'Guest configuration: assignments on machines, their compliance, and signed packages.',
  );
  const assignment = group
    .command('assignment')
    .description('A configuration assigned to a machine: audited, or also applied.');
  assignment
    .command('list')
    .description('List assignments on a machine, in a resource group, or in the subscription.')
    .option('-g, --resource-group <name>', 'resource group', parseResourceGroupName)
    .option('--machine-name <name>', 'machine (with -g)', parseResourceName)
    .addOption(subscriptionOption())
    .addOption(outputOption())
    .action(
      defineAction<WhereOptions>(deps, async (o, c) => {
        const session = await c.session(o.subscription);
        const sub = session.subscriptionId();
        let scope: string;
        if (o.machineName !== undefined) {
          if (o.resourceGroup === undefined) {
            throw usageError(
              "--machine-name needs --resource-group (-g), the machine's group.",
              '--machine-name',
            );
          }
          scope = machineId(sub, o.resourceGroup, o.machineName);
        } else {
          scope =
            o.resourceGroup === undefined
              ? subscriptionScope(sub)
              : resourceGroupScope(sub, o.resourceGroup);
        }
        const found = await session.client.list<GcAssignment>(
          `${scopePath(scope)}${COLLECTION}`,
          QUERY,
        );
        c.print(found, o.output, ASSIGNMENT_COLUMNS);
      }),
    );
  assignment
    .command('show')
    .description("Show an assignment's status, when it was last checked and each rule's state.")
    .requiredOption('-g, --resource-group <name>', 'resource group', parseResourceGroupName)
    .requiredOption('--machine-name <name>', 'machine', parseResourceName)
    .requiredOption('-n, --name <name>', 'the assignment name', parseResourceName)
    .option('--history', 'list its reports instead: time, state and the rules failing')
    .addOption(subscriptionOption())
    .addOption(outputOption())
    .action(
      defineAction<WhereOptions & { name: string; history?: boolean }>(deps, async (o, c) => {
        const session = await c.session(o.subscription);
        const path = `${scopePath(machineId(session.subscriptionId(), o.resourceGroup ?? '', o.machineName ?? ''))}${COLLECTION}/${encodeURIComponent(o.name)}`;
        if (o.history === true) {
          const reports = await session.client.list<GcReport>(`${path}/reports`, QUERY);
          c.print(reports, o.output, REPORT_COLUMNS);
          return;
        }
        const found = await session.client.get<GcAssignment>(path, QUERY);
        if (o.output === 'json' || !isRecord(found.properties)) {
          c.print(found, o.output, ASSIGNMENT_COLUMNS);
          return;
        }
        c.deps.stdout(describe(found));
      }),
    );
  registerGuestConfigPackages(group, deps);
}

/** A few lines about the assignment, then one row per rule of its latest report. */
function describe(assignment: GcAssignment): string {
  const p = assignment.properties;
  const configuration = p.guestConfiguration;
  const rules = p.latestAssignmentReport?.resources ?? [];
  const lines = [
    `Name:           ${cellText(assignment.name)}`,
    `Machine:        ${cellText(p.targetResourceId?.split('/').at(-1))}`,
    `Configuration:  ${cellText(configuration?.name)} ${cellText(configuration?.version)} (${cellText(configuration?.assignmentType)})`,
    `Status:         ${cellText(p.complianceStatus)}`,
    `Last checked:   ${p.lastComplianceStatusChecked == null ? 'not yet' : cellText(p.lastComplianceStatusChecked)}`,
    `Rules failing:  ${failing(rules).length} of ${rules.length}`,
  ];
  const table =
    rules.length === 0
      ? '\nNo report yet: the machine has not evaluated this assignment.\n'
      : `\n${formatTable(rules, RULE_COLUMNS)}`;
  return `${lines.join('\n')}\n${table}`;
}
