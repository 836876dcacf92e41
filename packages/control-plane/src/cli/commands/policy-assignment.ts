// `tether policy assignment create|show|list|delete`: a policy or initiative applied at a
// subscription, resource group or machine, with az's flags (`--policy`, `--params`, …).
import { Option, type Command } from 'commander';
import { isRecord } from '../client/api-error.js';
import type { CliDeps } from '../client/cli-deps.js';
import { usageError } from '../client/cli-error.js';
import {
  defineAction,
  outputOption,
  type ActionContext,
  type OutputOptions,
} from '../client/command-kit.js';
import { readJsonObject } from '../client/json-argument.js';
import type { Column } from '../client/output-format.js';
import { parseScope } from '../client/scope.js';
import {
  findPolicyAssignment,
  findPolicyDefinition,
  policyPath,
  POLICY_QUERY,
  textOf,
  type ArmPolicyResource,
} from '../client/policy-lookup.js';
import { scopeFromOptions, withScopeOptions, type ScopeOptions } from '../client/scope-options.js';

interface CreateOptions extends ScopeOptions, OutputOptions {
  name: string;
  policy?: string;
  policySetDefinition?: string;
  params?: string;
  notScopes?: string[];
  enforcementMode: string;
  displayName?: string;
  description?: string;
}

type NameOptions = ScopeOptions & OutputOptions & { name: string };

export const ASSIGNMENT_COLUMNS: readonly Column<ArmPolicyResource>[] = [
  { header: 'Name', value: (a) => a.name },
  { header: 'DisplayName', value: (a) => a.properties['displayName'] },
  { header: 'Scope', value: (a) => a.properties['scope'] },
  {
    header: 'Policy',
    value: (a) => textOf(a.properties['policyDefinitionId']).split('/').at(-1),
  },
  { header: 'EnforcementMode', value: (a) => a.properties['enforcementMode'] },
];

export function registerPolicyAssignments(policy: Command, deps: CliDeps): void {
  const assignment = policy
    .command('assignment')
    .description('Policy assignments: a policy or initiative in force at a scope.');
  withScopeOptions(assignment.command('create'))
    .description('Assign a policy or initiative at a scope (default: the subscription).')
    .requiredOption('-n, --name <name>', 'the assignment name')
    .option('--policy <policy>', 'the policy definition: name, id or display name')
    .option('--policy-set-definition <initiative>', 'the initiative: name, id or display name')
    .option('-p, --params <json>', 'parameter values {"name": {"value": …}} as JSON or @file')
    .option('--not-scopes <scope...>', 'space-separated scopes left out of the assignment')
    .addOption(
      new Option('--enforcement-mode <mode>', 'DoNotEnforce evaluates without denying')
        .choices(['Default', 'DoNotEnforce'])
        .default('Default'),
    )
    .option('--display-name <text>', 'display name')
    .option('--description <text>', 'description')
    .addOption(outputOption())
    .action(defineAction<CreateOptions>(deps, create));
  withScopeOptions(assignment.command('show'))
    .description('Show one assignment, by name (at the scope or above it) or id.')
    .requiredOption('-n, --name <name>', 'name or id')
    .addOption(outputOption())
    .action(
      defineAction<NameOptions>(deps, async (o, c) => {
        const session = await c.session(o.subscription);
        const scope = scopeFromOptions(o, session.subscriptionId);
        c.print(
          await findPolicyAssignment(session.client, o.name, scope, '--name'),
          o.output,
          ASSIGNMENT_COLUMNS,
        );
      }),
    );
  withScopeOptions(assignment.command('list'))
    .description('List the assignments that apply at a scope (default: the subscription).')
    .option('--exact', 'only those made at exactly this scope')
    .addOption(outputOption())
    .action(
      defineAction<ScopeOptions & OutputOptions & { exact?: boolean }>(deps, async (o, c) => {
        const session = await c.session(o.subscription);
        const scope = scopeFromOptions(o, session.subscriptionId);
        const found = await session.client.list<ArmPolicyResource>(
          policyPath(scope, 'policyAssignments'),
          { ...POLICY_QUERY, $filter: o.exact === true ? 'atExactScope()' : 'atScope()' },
        );
        c.print(found, o.output, ASSIGNMENT_COLUMNS);
      }),
    );
  withScopeOptions(assignment.command('delete'))
    .description('Delete an assignment, by name (at the scope or above it) or id.')
    .requiredOption('-n, --name <name>', 'name or id')
    .action(
      defineAction<Omit<NameOptions, 'output'>>(deps, async (o, c) => {
        const session = await c.session(o.subscription);
        const scope = scopeFromOptions(o, session.subscriptionId);
        const found = await findPolicyAssignment(session.client, o.name, scope, '--name');
        await session.client.delete(found.id, { query: POLICY_QUERY });
      }),
    );
}

async function create(o: CreateOptions, c: ActionContext): Promise<void> {
  if ((o.policy === undefined) === (o.policySetDefinition === undefined)) {
    throw usageError(
      'pass exactly one of --policy (a policy definition) or --policy-set-definition (an initiative).',
      '--policy',
    );
  }
  const notScopes = (o.notScopes ?? []).map((s) => parseScope(s, '--not-scopes'));
  const parameters = o.params === undefined ? undefined : await parameterValues(o.params);
  const session = await c.session(o.subscription);
  const scope = scopeFromOptions(o, session.subscriptionId);
  const definition =
    o.policy !== undefined
      ? await findPolicyDefinition(
          session.client,
          'policyDefinitions',
          o.policy,
          session.subscriptionId(),
          '--policy',
        )
      : await findPolicyDefinition(
          session.client,
          'policySetDefinitions',
          o.policySetDefinition ?? '',
          session.subscriptionId(),
          '--policy-set-definition',
        );
  const properties: Record<string, unknown> = {
    policyDefinitionId: definition.id,
    enforcementMode: o.enforcementMode,
    displayName: o.displayName ?? definition.properties['displayName'] ?? o.name,
  };
  if (notScopes.length > 0) properties['notScopes'] = notScopes;
  if (parameters !== undefined) properties['parameters'] = parameters;
  if (o.description !== undefined) properties['description'] = o.description;
  const created = await session.client.put<ArmPolicyResource>(
    policyPath(scope, 'policyAssignments', o.name),
    { properties },
    { query: POLICY_QUERY },
  );
  c.print(created, o.output, ASSIGNMENT_COLUMNS);
}

/** `{"p": {"value": 1}}` as ARM takes it; `{"p": 1}` is accepted and wrapped, as az does. */
async function parameterValues(text: string): Promise<Record<string, { value: unknown }>> {
  const given = await readJsonObject(text, '--params');
  const values: Record<string, { value: unknown }> = {};
  for (const [name, value] of Object.entries(given)) {
    values[name] =
      isRecord(value) && 'value' in value && Object.keys(value).length === 1
        ? { value: value['value'] }
        : { value };
  }
  return values;
}
