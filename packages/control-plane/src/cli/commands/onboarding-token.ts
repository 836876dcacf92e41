// `tether onboarding-token create`: one opaque string for `azcmagent connect
// --onboarding-token`, bounded in time and in machines, so a bulk roll-out ships no lasting secret.
import { InvalidArgumentError, type Command } from 'commander';
import { processCliDeps, type CliDeps } from '../client/cli-deps.js';
import {
  configureGroup,
  defineAction,
  subscriptionOption,
  type SubscriptionOptions,
} from '../client/command-kit.js';
import { usageError } from '../client/cli-error.js';
import { installCommand } from '../client/install-command.js';
import { parseResourceGroupName } from '../client/parsers.js';
import { resourceGroupScope, scopePath } from '../client/scope.js';

const QUERY = { 'api-version': '2024-07-10' };
const UNITS: Record<string, number> = { m: 60, h: 3600, d: 86_400 };

interface CreateOptions extends SubscriptionOptions {
  resourceGroup: string;
  expires: number;
  maxMachines: number;
  installCommand?: boolean;
}

function parseExpires(raw: string): number {
  const match = /^(\d{1,5})([mhd])$/.exec(raw.trim());
  const seconds = match === null ? Number.NaN : Number(match[1]) * (UNITS[match[2] ?? ''] ?? 0);
  if (!(seconds >= 60 && seconds <= 30 * 86_400)) {
    throw new InvalidArgumentError('expected a duration such as 30m, 2h or 7d, from 1m to 30d.');
  }
  return seconds;
}

function parseCount(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 100_000) {
    throw new InvalidArgumentError('expected a whole number from 1 to 100000.');
  }
  return n;
}

export function register(program: Command, deps: CliDeps = processCliDeps()): void {
  const group = configureGroup(program.command('onboarding-token'), deps).description(
    'Bounded credentials for onboarding many machines (azcmagent connect --onboarding-token).',
  );
  group
    .command('create')
    .description('Create an onboarding token for a resource group and print it.')
    .requiredOption('-g, --resource-group <name>', 'resource group', parseResourceGroupName)
    .requiredOption('--expires <duration>', 'lifetime such as 2h (at most 30d)', parseExpires)
    .requiredOption('--max-machines <n>', 'machines the token may create', parseCount)
    .option(
      '--install-command',
      'print the one command that installs the agent on a new machine and connects it with this token',
    )
    .addOption(subscriptionOption())
    .action(
      defineAction<CreateOptions>(deps, async (o, c) => {
        const session = await c.session(o.subscription);
        const scope = resourceGroupScope(session.subscriptionId(), o.resourceGroup);
        const answer = await session.client.post<{ token: string }>(
          `${scopePath(scope)}/providers/Microsoft.HybridCompute/onboardingTokens`,
          { expiresInSeconds: o.expires, maxMachines: o.maxMachines },
          { query: QUERY },
        );
        if (o.installCommand !== true) {
          deps.stdout(`${answer.token}\n`);
          return;
        }
        if (session.ca === undefined) {
          throw usageError(
            "--install-command needs the control plane's CA certificate: sign in with 'tether login --ca-cert FILE' or set TETHER_CA_CERT=FILE.",
            '--install-command',
          );
        }
        deps.stdout(
          `Run this as root on the machine to add (it installs the agent and connects it):\n\n${installCommand({ endpoint: session.endpoint, caPem: session.ca, token: answer.token })}\n`,
        );
      }),
    );
}
