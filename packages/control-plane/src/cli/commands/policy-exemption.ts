// `tether policy exemption create|show|list|delete`: a scope let off an assignment (or some of
// an initiative's policies), as a waiver or because the risk is mitigated, until it expires.
import { Option, type Command } from 'commander';
import type { CliDeps } from '../client/cli-deps.js';
import {
  defineAction,
  outputOption,
  type ActionContext,
  type OutputOptions,
} from '../client/command-kit.js';
import type { Column } from '../client/output-format.js';
import { parseDateTime } from '../client/parsers.js';
import {
  EXEMPTION_QUERY,
  findPolicyAssignment,
  policyPath,
  textOf,
  type ArmPolicyResource,
} from '../client/policy-lookup.js';
import { scopeFromOptions, withScopeOptions, type ScopeOptions } from '../client/scope-options.js';

interface CreateOptions extends ScopeOptions, OutputOptions {
  name: string;
  policyAssignment: string;
  exemptionCategory: string;
  expiresOn?: Date;
  policyDefinitionReferenceIds?: string[];
  displayName?: string;
  description?: string;
}

type NameOptions = ScopeOptions & OutputOptions & { name: string };

const COLUMNS: readonly Column<ArmPolicyResource>[] = [
  { header: 'Name', value: (e) => e.name },
  { header: 'Category', value: (e) => e.properties['exemptionCategory'] },
  {
    header: 'Assignment',
    value: (e) => textOf(e.properties['policyAssignmentId']).split('/').at(-1),
  },
  {
    header: 'References',
    value: (e) =>
      Array.isArray(e.properties['policyDefinitionReferenceIds'])
        ? e.properties['policyDefinitionReferenceIds'].join(',')
        : '',
  },
  { header: 'ExpiresOn', value: (e) => e.properties['expiresOn'] },
];

export function registerPolicyExemptions(policy: Command, deps: CliDeps): void {
  const exemption = policy
    .command('exemption')
    .description('Policy exemptions: a scope let off an assignment, as a waiver or mitigated.');
  withScopeOptions(exemption.command('create'), true)
    .description('Exempt a scope (default: the subscription) from an assignment.')
    .requiredOption('-n, --name <name>', 'the exemption name')
    .requiredOption('--policy-assignment <assignment>', 'the assignment: name or id')
    .addOption(
      new Option('--exemption-category <category>', 'why the scope is exempt')
        .choices(['Waiver', 'Mitigated'])
        .makeOptionMandatory(),
    )
    .option('--expires-on <time>', 'when the exemption ends (ISO 8601, UTC)', parseDateTime)
    .option(
      '--policy-definition-reference-ids <id...>',
      "only these of the initiative's policies (space-separated reference ids)",
    )
    .option('--display-name <text>', 'display name')
    .option('--description <text>', 'description')
    .addOption(outputOption())
    .action(defineAction<CreateOptions>(deps, create));
  withScopeOptions(exemption.command('show'), true)
    .description('Show one exemption made at a scope.')
    .requiredOption('-n, --name <name>', 'the exemption name')
    .addOption(outputOption())
    .action(
      defineAction<NameOptions>(deps, async (o, c) => {
        const session = await c.session(o.subscription);
        const scope = scopeFromOptions(o, session.subscriptionId);
        const found = await session.client.get<ArmPolicyResource>(
          policyPath(scope, 'policyExemptions', o.name),
          EXEMPTION_QUERY,
        );
        c.print(found, o.output, COLUMNS);
      }),
    );
  withScopeOptions(exemption.command('list'), true)
    .description('List the exemptions that apply at a scope (default: the subscription).')
    .option('--include-expired', 'also those that have expired')
    .addOption(outputOption())
    .action(
      defineAction<ScopeOptions & OutputOptions & { includeExpired?: boolean }>(
        deps,
        async (o, c) => {
          const session = await c.session(o.subscription);
          const scope = scopeFromOptions(o, session.subscriptionId);
          const filter = o.includeExpired === true ? 'atScope()' : 'atScope() and excludeExpired()';
          const found = await session.client.list<ArmPolicyResource>(
            policyPath(scope, 'policyExemptions'),
            { ...EXEMPTION_QUERY, $filter: filter },
          );
          c.print(found, o.output, COLUMNS);
        },
      ),
    );
  withScopeOptions(exemption.command('delete'), true)
    .description('Delete an exemption made at a scope.')
    .requiredOption('-n, --name <name>', 'the exemption name')
    .action(
      defineAction<Omit<NameOptions, 'output'>>(deps, async (o, c) => {
        const session = await c.session(o.subscription);
        const scope = scopeFromOptions(o, session.subscriptionId);
        await session.client.delete(policyPath(scope, 'policyExemptions', o.name), {
          query: EXEMPTION_QUERY,
        });
      }),
    );
}

async function create(o: CreateOptions, c: ActionContext): Promise<void> {
  const session = await c.session(o.subscription);
  const scope = scopeFromOptions(o, session.subscriptionId);
  const assignment = await findPolicyAssignment(
    session.client,
    o.policyAssignment,
    scope,
    '--policy-assignment',
  );
  const properties: Record<string, unknown> = {
    policyAssignmentId: assignment.id,
    exemptionCategory: o.exemptionCategory,
  };
  if (o.expiresOn !== undefined) properties['expiresOn'] = o.expiresOn.toISOString();
  if (o.policyDefinitionReferenceIds !== undefined) {
    properties['policyDefinitionReferenceIds'] = o.policyDefinitionReferenceIds;
  }
  if (o.displayName !== undefined) properties['displayName'] = o.displayName;
  if (o.description !== undefined) properties['description'] = o.description;
  const created = await session.client.put<ArmPolicyResource>(
    policyPath(scope, 'policyExemptions', o.name),
    { properties },
    { query: EXEMPTION_QUERY },
  );
  c.print(created, o.output, COLUMNS);
}
