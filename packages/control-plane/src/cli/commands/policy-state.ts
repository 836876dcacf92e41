// `tether policy state list|summarize|trigger-scan`: what the latest evaluation found per
// machine and policy, counts per assignment, and a fresh scan on request.
import type { Command } from 'commander';
import type { ApiClient } from '../client/api-client.js';
import { isRecord } from '../client/api-error.js';
import { API_VERSIONS } from '../client/api-versions.js';
import type { CliDeps } from '../client/cli-deps.js';
import { CliError } from '../client/cli-error.js';
import { defineAction, outputOption, type OutputOptions } from '../client/command-kit.js';
import type { Column } from '../client/output-format.js';
import { parsePositiveInteger } from '../client/parsers.js';
import { scopePath } from '../client/scope.js';
import { scopeFromOptions, withScopeOptions, type ScopeOptions } from '../client/scope-options.js';

const QUERY = { 'api-version': API_VERSIONS.policyInsights };
const INSIGHTS = '/providers/Microsoft.PolicyInsights/policyStates/latest';

interface QueryOptions extends ScopeOptions, OutputOptions {
  filter?: string;
  top?: number;
}

interface PolicyState {
  resourceId: string;
  policyAssignmentName: string;
  policyDefinitionName?: string;
  policyDefinitionReferenceId?: string;
  complianceState: string;
  timestamp: string;
}

interface Results {
  nonCompliantResources: number;
  nonCompliantPolicies?: number;
  resourceDetails?: { complianceState: string; count: number }[];
}

interface AssignmentSummary {
  policyAssignmentId: string;
  policySetDefinitionId?: string;
  results: Results;
}

const STATE_COLUMNS: readonly Column<PolicyState>[] = [
  { header: 'Machine', value: (s) => s.resourceId.split('/').at(-1) },
  { header: 'Assignment', value: (s) => s.policyAssignmentName },
  {
    header: 'Policy',
    value: (s) =>
      s.policyDefinitionReferenceId !== undefined && s.policyDefinitionReferenceId !== ''
        ? s.policyDefinitionReferenceId
        : s.policyDefinitionName,
  },
  { header: 'State', value: (s) => s.complianceState },
  { header: 'Timestamp', value: (s) => s.timestamp },
];

const count = (r: Results, state: string): number =>
  r.resourceDetails?.find((d) => d.complianceState.toLowerCase() === state)?.count ?? 0;

const SUMMARY_COLUMNS: readonly Column<AssignmentSummary>[] = [
  { header: 'Assignment', value: (a) => a.policyAssignmentId.split('/').at(-1) },
  { header: 'Compliant', value: (a) => count(a.results, 'compliant') },
  { header: 'NonCompliant', value: (a) => count(a.results, 'noncompliant') },
  { header: 'Exempt', value: (a) => count(a.results, 'exempt') },
  { header: 'NonCompliantPolicies', value: (a) => a.results.nonCompliantPolicies ?? 0 },
];

export function registerPolicyStates(policy: Command, deps: CliDeps): void {
  const state = policy
    .command('state')
    .description('Compliance: the latest evaluation of each policy on each machine.');
  withQueryOptions(withScopeOptions(state.command('list'), true))
    .description('List policy states: machine, assignment, policy and compliance state.')
    .action(
      defineAction<QueryOptions>(deps, async (o, c) => {
        const session = await c.session(o.subscription);
        const scope = scopeFromOptions(o, session.subscriptionId);
        const states = await postList<PolicyState>(
          session.client,
          `${scopePath(scope)}${INSIGHTS}/queryResults`,
          queryOf(o),
          o.top,
        );
        c.print(states, o.output, STATE_COLUMNS);
      }),
    );
  withQueryOptions(withScopeOptions(state.command('summarize'), true))
    .description('Count compliant and non-compliant machines per assignment.')
    .action(
      defineAction<QueryOptions>(deps, async (o, c) => {
        const session = await c.session(o.subscription);
        const scope = scopeFromOptions(o, session.subscriptionId);
        const answer = await session.client.post<unknown>(
          `${scopePath(scope)}${INSIGHTS}/summarize`,
          undefined,
          { query: queryOf(o) },
        );
        const values: unknown = isRecord(answer) ? answer['value'] : undefined;
        const summary: unknown = Array.isArray(values) ? (values as unknown[])[0] : undefined;
        if (!isRecord(summary) || !Array.isArray(summary['policyAssignments'])) {
          throw new CliError('ERR_API', 'the control plane answered summarize without a summary.');
        }
        if (o.output === 'json') c.print(summary, 'json', []);
        else c.print(summary['policyAssignments'] as AssignmentSummary[], 'table', SUMMARY_COLUMNS);
      }),
    );
  withScopeOptions(state.command('trigger-scan'), true)
    .description('Evaluate every machine at the scope now; waits until they were asked.')
    .option('--no-wait', 'return once the scan is accepted')
    .action(
      defineAction<ScopeOptions & { wait: boolean }>(deps, async (o, c) => {
        const session = await c.session(o.subscription);
        const scope = scopeFromOptions(o, session.subscriptionId);
        await session.client.post(`${scopePath(scope)}${INSIGHTS}/triggerEvaluation`, undefined, {
          query: QUERY,
          noWait: !o.wait,
        });
      }),
    );
}

function withQueryOptions(command: Command): Command {
  return command
    .option('--filter <odata>', 'an OData filter such as "complianceState eq \'NonCompliant\'"')
    .option('--top <n>', 'at most this many rows', parsePositiveInteger)
    .addOption(outputOption());
}

function queryOf(o: QueryOptions): Record<string, string | undefined> {
  return { ...QUERY, $filter: o.filter, $top: o.top === undefined ? undefined : String(o.top) };
}

/** queryResults pages through @odata.nextLink, each page another POST. */
async function postList<T>(
  client: ApiClient,
  path: string,
  query: Record<string, string | undefined>,
  max = Number.POSITIVE_INFINITY,
): Promise<T[]> {
  const items: T[] = [];
  let page = await client.post<unknown>(path, undefined, { query });
  for (;;) {
    if (!isRecord(page) || !Array.isArray(page['value'])) {
      throw new CliError(
        'ERR_API',
        `the control plane answered POST ${path} without a value list.`,
      );
    }
    items.push(...(page['value'] as T[]));
    const next = page['@odata.nextLink'];
    if (typeof next !== 'string' || next === '' || items.length >= max) break;
    page = await client.post<unknown>(next, undefined);
  }
  return items.slice(0, max);
}
