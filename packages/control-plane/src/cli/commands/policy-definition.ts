// `tether policy definition|set-definition create|show|list|delete`: custom policies and
// initiatives in the subscription, beside the built-in ones, as `az policy definition` does.
import { Option, type Command } from 'commander';
import { usageError } from '../client/cli-error.js';
import type { CliDeps } from '../client/cli-deps.js';
import {
  defineAction,
  outputOption,
  subscriptionOption,
  type ActionContext,
  type OutputOptions,
  type SubscriptionOptions,
} from '../client/command-kit.js';
import { readJsonArgument, readJsonObject } from '../client/json-argument.js';
import type { Column } from '../client/output-format.js';
import {
  findPolicyDefinition,
  policyPath,
  POLICY_QUERY,
  type ArmPolicyResource,
  type PolicyKind,
} from '../client/policy-lookup.js';

interface CreateOptions extends SubscriptionOptions, OutputOptions {
  name: string;
  rules?: string;
  definitions?: string;
  definitionGroups?: string;
  params?: string;
  mode?: string;
  displayName?: string;
  description?: string;
  metadata?: string;
}

type NameOptions = SubscriptionOptions & OutputOptions & { name: string };

const COLUMNS: readonly Column<ArmPolicyResource>[] = [
  { header: 'Name', value: (d) => d.name },
  { header: 'DisplayName', value: (d) => d.properties['displayName'] },
  { header: 'PolicyType', value: (d) => d.properties['policyType'] },
  { header: 'Mode', value: (d) => d.properties['mode'] },
];

const SET_COLUMNS: readonly Column<ArmPolicyResource>[] = [
  { header: 'Name', value: (d) => d.name },
  { header: 'DisplayName', value: (d) => d.properties['displayName'] },
  { header: 'PolicyType', value: (d) => d.properties['policyType'] },
  {
    header: 'Policies',
    value: (d) =>
      Array.isArray(d.properties['policyDefinitions'])
        ? d.properties['policyDefinitions'].length
        : undefined,
  },
];

export function registerPolicyDefinitions(policy: Command, deps: CliDeps): void {
  const definition = policy
    .command('definition')
    .description('Policy definitions: a rule and the effect it has on matching resources.');
  common(definition, 'policyDefinitions', deps);
  definition
    .command('create')
    .description('Create or replace a custom policy definition in the subscription.')
    .requiredOption('-n, --name <name>', 'the definition name')
    .requiredOption('--rules <json>', 'the policy rule {"if": …, "then": …}, as JSON or @file')
    .option('--params <json>', 'parameter definitions, as JSON or @file')
    .addOption(
      new Option('--mode <mode>', 'which resources the rule looks at')
        .choices(['All', 'Indexed'])
        .default('Indexed'),
    )
    .option('--display-name <text>', 'display name')
    .option('--description <text>', 'description')
    .option('--metadata <json>', 'metadata such as {"category": "…"}, as JSON or @file')
    .addOption(subscriptionOption())
    .addOption(outputOption())
    .action(defineAction<CreateOptions>(deps, (o, c) => create('policyDefinitions', o, c)));

  const set = policy
    .command('set-definition')
    .description('Policy set definitions (initiatives): policies assigned together.');
  common(set, 'policySetDefinitions', deps);
  set
    .command('create')
    .description('Create or replace a custom initiative in the subscription.')
    .requiredOption('-n, --name <name>', 'the initiative name')
    .requiredOption(
      '--definitions <json>',
      'the member policies [{"policyDefinitionId": …, "parameters": …, "policyDefinitionReferenceId": …}], as JSON or @file',
    )
    .option('--definition-groups <json>', 'policyDefinitionGroups, as JSON or @file')
    .option('--params <json>', 'parameter definitions, as JSON or @file')
    .option('--display-name <text>', 'display name')
    .option('--description <text>', 'description')
    .option('--metadata <json>', 'metadata such as {"category": "…"}, as JSON or @file')
    .addOption(subscriptionOption())
    .addOption(outputOption())
    .action(defineAction<CreateOptions>(deps, (o, c) => create('policySetDefinitions', o, c)));
}

/** show, list and delete, the same for definitions and initiatives. */
function common(group: Command, kind: PolicyKind, deps: CliDeps): void {
  const columns = kind === 'policyDefinitions' ? COLUMNS : SET_COLUMNS;
  group
    .command('show')
    .description('Show one, by name, id or display name (custom or built-in).')
    .requiredOption('-n, --name <name>', 'name, id or display name')
    .addOption(subscriptionOption())
    .addOption(outputOption())
    .action(
      defineAction<NameOptions>(deps, async (o, c) => {
        const session = await c.session(o.subscription);
        const found = await findPolicyDefinition(
          session.client,
          kind,
          o.name,
          session.subscriptionId(),
          '--name',
        );
        c.print(found, o.output, columns);
      }),
    );
  group
    .command('list')
    .description('List the built-in and custom ones the subscription can use.')
    .addOption(
      new Option('--policy-type <type>', 'only these').choices(['BuiltIn', 'Custom', 'Static']),
    )
    .addOption(subscriptionOption())
    .addOption(outputOption())
    .action(
      defineAction<SubscriptionOptions & OutputOptions & { policyType?: string }>(
        deps,
        async (o, c) => {
          const session = await c.session(o.subscription);
          const all = await session.client.list<ArmPolicyResource>(
            policyPath(`/subscriptions/${session.subscriptionId()}`, kind),
            POLICY_QUERY,
          );
          const shown = all.filter(
            (d) => o.policyType === undefined || d.properties['policyType'] === o.policyType,
          );
          c.print(shown, o.output, columns);
        },
      ),
    );
  group
    .command('delete')
    .description('Delete a custom one; built-ins cannot be deleted.')
    .requiredOption('-n, --name <name>', 'name, id or display name')
    .addOption(subscriptionOption())
    .action(
      defineAction<Omit<NameOptions, 'output'>>(deps, async (o, c) => {
        const session = await c.session(o.subscription);
        const found = await findPolicyDefinition(
          session.client,
          kind,
          o.name,
          session.subscriptionId(),
          '--name',
        );
        if (found.properties['policyType'] === 'BuiltIn') {
          throw usageError(
            `'${o.name}' is built in (${found.name}); only custom ones can be deleted.`,
            '--name',
          );
        }
        await session.client.delete(found.id, { query: POLICY_QUERY });
      }),
    );
}

async function create(kind: PolicyKind, o: CreateOptions, c: ActionContext): Promise<void> {
  const properties: Record<string, unknown> = { policyType: 'Custom' };
  if (kind === 'policyDefinitions') {
    let rule = await readJsonObject(o.rules ?? '', '--rules');
    // A whole definition's properties (as exported) carry the rule in policyRule.
    if ('policyRule' in rule) rule = await asObject(rule['policyRule'], '--rules');
    if (!('if' in rule) || !('then' in rule)) {
      throw usageError(
        '--rules must be a policy rule with "if" and "then", such as {"if": {"field": "type", "equals": "Microsoft.HybridCompute/machines"}, "then": {"effect": "audit"}}.',
        '--rules',
      );
    }
    properties['mode'] = o.mode ?? 'Indexed';
    properties['policyRule'] = rule;
  } else {
    const members = await readJsonArgument(o.definitions ?? '', '--definitions');
    if (!Array.isArray(members) || members.length === 0) {
      throw usageError(
        '--definitions must be a non-empty JSON array of {"policyDefinitionId": …} entries.',
        '--definitions',
      );
    }
    properties['policyDefinitions'] = members;
    if (o.definitionGroups !== undefined) {
      properties['policyDefinitionGroups'] = await readJsonArgument(
        o.definitionGroups,
        '--definition-groups',
      );
    }
  }
  if (o.params !== undefined) properties['parameters'] = await readJsonObject(o.params, '--params');
  if (o.displayName !== undefined) properties['displayName'] = o.displayName;
  if (o.description !== undefined) properties['description'] = o.description;
  if (o.metadata !== undefined)
    properties['metadata'] = await readJsonObject(o.metadata, '--metadata');
  const session = await c.session(o.subscription);
  const created = await session.client.put<ArmPolicyResource>(
    policyPath(`/subscriptions/${session.subscriptionId()}`, kind, o.name),
    { properties },
    { query: POLICY_QUERY },
  );
  c.print(created, o.output, kind === 'policyDefinitions' ? COLUMNS : SET_COLUMNS);
}

function asObject(value: unknown, flag: string): Promise<Record<string, unknown>> {
  return readJsonObject(JSON.stringify(value ?? null), flag);
}
