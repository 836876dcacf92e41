// `tether login`, `logout` and `account`: sign in with a service principal and keep the profile
// (endpoint, tenant, secret, CA, default subscription, cached token) as `az` keeps its own, one
// per profile name, so that signing in to a second control plane keeps the first.
import { InvalidArgumentError, type Command } from 'commander';
import { ApiClient } from '../client/api-client.js';
import { ApiError } from '../client/api-error.js';
import { API_VERSIONS } from '../client/api-versions.js';
import { readPemCertificates } from '../client/pem-certificates.js';
import { processCliDeps, type CliDeps } from '../client/cli-deps.js';
import { CliError, usageError } from '../client/cli-error.js';
import {
  configureGroup,
  defineAction,
  outputOption,
  subscriptionOption,
  type ActionContext,
  type OutputOptions,
  type SubscriptionOptions,
} from '../client/command-kit.js';
import type { Column } from '../client/output-format.js';
import { parseEndpoint, parseGuid } from '../client/parsers.js';
import {
  checkProfileName,
  ProfileStore,
  type CachedToken,
  type Profile,
} from '../client/profile-store.js';
import { TokenProvider } from '../client/token-provider.js';
import { deviceCodeLogin, PEOPLE_CLIENT_ID } from '../client/device-code-login.js';
import { revokeSignIn } from '../client/revoke-sign-in.js';
import type { Subscription } from '../client/wire-types.js';

interface LoginOptions extends OutputOptions, SubscriptionOptions {
  servicePrincipal?: boolean;
  username?: string;
  password?: string;
  tenant?: string;
  endpoint?: string;
  caCert?: string;
}

/** One line of `az login` / `az account list` output. */
interface AccountEntry {
  cloudName: 'Tether';
  endpoint: string;
  id: string;
  name: string;
  state: string;
  tenantId: string;
  isDefault: boolean;
  user: { name: string; type: 'servicePrincipal' | 'user' };
}

/** One line of `tether account list`: a saved profile, never its secret. */
interface ProfileEntry {
  profile: string;
  isCurrent: boolean;
  endpoint: string;
  tenantId: string;
  user: string;
  subscriptionId: string | null;
}

const PROFILE_COLUMNS: readonly Column<ProfileEntry>[] = [
  { header: 'Profile', value: (p) => p.profile },
  { header: 'IsCurrent', value: (p) => p.isCurrent },
  { header: 'Endpoint', value: (p) => p.endpoint },
  { header: 'User', value: (p) => p.user },
  { header: 'SubscriptionId', value: (p) => p.subscriptionId },
];

const ACCOUNT_COLUMNS: readonly Column<AccountEntry>[] = [
  { header: 'Name', value: (a) => a.name },
  { header: 'SubscriptionId', value: (a) => a.id },
  { header: 'State', value: (a) => a.state },
  { header: 'IsDefault', value: (a) => a.isDefault },
];

export function register(program: Command, deps: CliDeps = processCliDeps()): void {
  configureGroup(program.command('login'), deps)
    .description(
      'Sign in to a Tether control plane as yourself (a code to enter in a browser) or with --service-principal, and keep the profile (--profile NAME keeps another beside it).',
    )
    .option(
      '--service-principal',
      'sign in as a service principal with -u APPID -p SECRET instead of as a person',
    )
    .option('-u, --username <appId>', 'application (client) id; default AZURE_CLIENT_ID')
    .option('-p, --password <secret>', 'client secret; default AZURE_CLIENT_SECRET')
    .option('-t, --tenant <tenant>', 'tenant id; default AZURE_TENANT_ID')
    .option('--endpoint <url>', 'https URL of the control plane; default TETHER_ENDPOINT')
    .option('--ca-cert <file>', "PEM of the control plane's CA; default TETHER_CA_CERT")
    .addOption(subscriptionOption())
    .addOption(outputOption())
    .action(defineAction<LoginOptions>(deps, login));

  configureGroup(program.command('logout'), deps)
    .description(
      "Forget the saved profile (the current one, or --profile NAME) and its secret; a person's sign-in is ended at the control plane first.",
    )
    .option(
      '--local-only',
      'forget the profile without reaching the control plane (the sign-in stays valid there until it lapses)',
    )
    .action(
      defineAction<{ localOnly?: boolean }>(deps, async (options, context) => {
        const d = context.deps;
        const store = ProfileStore.locate(d.env, d.homeDir);
        const profile = await store.load();
        if (profile === undefined) {
          throw new CliError(
            'ERR_NOT_LOGGED_IN',
            `there is no saved profile '${store.name}' (${store.path}).`,
          );
        }
        if (options.localOnly === true) {
          if (profile.refreshToken !== undefined) {
            context.warn(
              'the sign-in was not ended at the control plane: its refresh token stays valid there until it lapses (30 days unused).',
            );
          }
        } else {
          const transport = d.createTransport(
            profile.caCert === undefined ? {} : { ca: profile.caCert },
          );
          try {
            await revokeSignIn(profile, transport);
          } finally {
            transport.close();
          }
        }
        await store.remove();
      }),
    );

  const account = configureGroup(program.command('account'), deps).description(
    'The saved sign-ins (profiles): which one is used, and its default subscription.',
  );
  account
    .command('show')
    .description('Show the profile in use (never its secret).')
    .addOption(outputOption())
    .action(defineAction<OutputOptions>(deps, accountShow));
  account
    .command('list')
    .description(
      'List the saved profiles and which one is used; with --subscriptions, the subscriptions the profile in use can see.',
    )
    .option('--subscriptions', 'list the subscriptions of the profile in use instead')
    .addOption(outputOption())
    .action(
      defineAction<OutputOptions & { subscriptions?: boolean }>(deps, async (options, context) => {
        if (options.subscriptions !== true) {
          context.print(await profileEntries(context), options.output, PROFILE_COLUMNS);
          return;
        }
        const session = await context.session();
        const store = await ProfileStore.locate(context.deps.env, context.deps.homeDir).load();
        const subscriptions = await listSubscriptions(session.client);
        const entries = subscriptions.map((s) =>
          accountEntry(
            s,
            session.endpoint,
            session.tenantId,
            session.clientId,
            store?.subscriptionId,
          ),
        );
        context.print(entries, options.output, ACCOUNT_COLUMNS);
      }),
    );
  account
    .command('use')
    .description(
      'Use this saved profile from now on when neither --profile nor TETHER_PROFILE names one.',
    )
    .argument('<name>', "a profile from 'tether account list'")
    .action(
      defineAction<object>(deps, async (_options, context) => {
        const name = checkProfileName(context.args[0] ?? '', 'NAME');
        const store = ProfileStore.locate(context.deps.env, context.deps.homeDir).named(name);
        if ((await store.load()) === undefined) {
          const saved = await store.names();
          throw usageError(
            `there is no saved profile '${name}'${saved.length === 0 ? '' : ` (saved: ${saved.join(', ')})`}; sign in with 'tether login --profile ${name} …' first.`,
            'NAME',
          );
        }
        await store.makeCurrent();
      }),
    );
  account
    .command('set')
    .description('Set the default subscription of the saved profile.')
    .addOption(subscriptionOption().makeOptionMandatory())
    .action(defineAction<Required<SubscriptionOptions>>(deps, accountSet));
}

async function login(options: LoginOptions, context: ActionContext): Promise<void> {
  const { deps } = context;
  const person = options.servicePrincipal !== true;
  if (person && (options.username !== undefined || options.password !== undefined)) {
    throw usageError(
      '-u/--username and -p/--password sign in a service principal: add --service-principal, or leave them out to sign in as yourself with a code shown here.',
      '--service-principal',
    );
  }
  const clientId = person
    ? PEOPLE_CLIENT_ID
    : setting(options.username, deps, 'AZURE_CLIENT_ID', '-u/--username', parseGuid);
  const clientSecret = person
    ? ''
    : setting(options.password, deps, 'AZURE_CLIENT_SECRET', '-p/--password', parseSecret);
  const tenantId = setting(options.tenant, deps, 'AZURE_TENANT_ID', '-t/--tenant', parseTenant);
  const endpoint = setting(options.endpoint, deps, 'TETHER_ENDPOINT', '--endpoint', parseEndpoint);
  const caPath = options.caCert ?? nonEmpty(deps.env['TETHER_CA_CERT']);
  const caCert =
    caPath === undefined
      ? undefined
      : await readPemCertificates(
          caPath,
          options.caCert === undefined ? 'TETHER_CA_CERT' : '--ca-cert',
        );

  const transport = deps.createTransport(caCert === undefined ? {} : { ca: caCert });
  try {
    let token: CachedToken | undefined;
    let signedIn: { refreshToken: string; userName: string } | undefined;
    if (person) {
      const tokens = await deviceCodeLogin(
        endpoint,
        tenantId,
        transport,
        deps.clock,
        deps.sleep,
        (message) => deps.stderr(`${message}\n`),
      );
      token = { accessToken: tokens.accessToken, expiresOn: tokens.expiresOn };
      signedIn = { refreshToken: tokens.refreshToken, userName: tokens.userName };
    }
    const credentials = {
      endpoint,
      tenantId,
      clientId,
      clientSecret,
      ...(signedIn === undefined ? {} : { refreshToken: signedIn.refreshToken }),
    };
    const tokens = new TokenProvider(credentials, transport, deps.clock, {
      load: () => token,
      save: (fresh) => {
        const { refreshToken, ...access } = fresh;
        token = access;
        if (signedIn !== undefined && refreshToken !== undefined)
          signedIn.refreshToken = refreshToken;
        return Promise.resolve();
      },
    });
    await tokens.accessToken();
    const client = new ApiClient({
      endpoint,
      transport,
      tokens,
      clock: deps.clock,
      sleep: deps.sleep,
    });
    const user = signedIn?.userName ?? clientId;
    let visible: Subscription[] | undefined;
    try {
      visible = await listSubscriptions(client);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 403) throw error;
      context.warn(`${user} may not list subscriptions (${error.apiCode}).`);
    }
    const chosen = await chooseSubscription(client, options.subscription, visible, context);
    const profile: Profile = {
      ...credentials,
      ...(signedIn === undefined ? {} : signedIn),
      ...(chosen === undefined ? {} : { subscriptionId: chosen }),
      ...(caCert === undefined ? {} : { caCert }),
      ...(token === undefined ? {} : { token }),
    };
    await ProfileStore.locate(deps.env, deps.homeDir).save(profile);
    if (chosen === undefined) {
      context.warn(
        "no default subscription: pass --subscription to each command, or run 'tether account set --subscription ID'.",
      );
    }
    const known = visible ?? (chosen === undefined ? [] : [{ subscriptionId: chosen }]);
    context.print(
      known.map((s) =>
        accountEntry(s, endpoint, tenantId, user, chosen, person ? 'user' : 'servicePrincipal'),
      ),
      options.output,
      ACCOUNT_COLUMNS,
    );
  } finally {
    transport.close();
  }
}

/** The --subscription flag once checked, else the first enabled subscription the principal sees. */
async function chooseSubscription(
  client: ApiClient,
  flag: string | undefined,
  visible: Subscription[] | undefined,
  context: ActionContext,
): Promise<string | undefined> {
  if (flag !== undefined) {
    if (!(visible ?? []).some((s) => s.subscriptionId.toLowerCase() === flag)) {
      await checkSubscription(client, flag, context);
    }
    return flag;
  }
  const enabled = visible?.find((s) => (s.state ?? 'Enabled') === 'Enabled') ?? visible?.[0];
  return enabled?.subscriptionId;
}

/**
 * Fails when the subscription does not exist. A principal whose roles sit below the
 * subscription (on a resource group) may not read it: then it is used unchecked, with a warning.
 */
async function checkSubscription(
  client: ApiClient,
  id: string,
  context: ActionContext,
): Promise<void> {
  try {
    await client.get(`/subscriptions/${id}`, { 'api-version': API_VERSIONS.subscriptions });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 403) throw error;
    context.warn(
      `this principal may not read subscription ${id} to check it (${error.apiCode}); using it anyway.`,
    );
  }
}

async function profileEntries(context: ActionContext): Promise<ProfileEntry[]> {
  const current = ProfileStore.locate(context.deps.env, context.deps.homeDir);
  const entries: ProfileEntry[] = [];
  for (const name of await current.names()) {
    const profile = await current.named(name).load();
    if (profile === undefined) continue;
    entries.push({
      profile: name,
      isCurrent: name === current.name,
      endpoint: profile.endpoint,
      tenantId: profile.tenantId,
      user: profile.userName ?? profile.clientId,
      subscriptionId: profile.subscriptionId ?? null,
    });
  }
  return entries;
}

async function accountShow(options: OutputOptions, context: ActionContext): Promise<void> {
  const store = ProfileStore.locate(context.deps.env, context.deps.homeDir);
  const profile = await store.load();
  if (profile === undefined) {
    throw new CliError(
      'ERR_NOT_LOGGED_IN',
      `not logged in as profile '${store.name}' (no ${store.path}); run 'tether login'.`,
    );
  }
  const shown = {
    name: store.name,
    environmentName: 'Tether',
    endpoint: profile.endpoint,
    id: profile.subscriptionId ?? null,
    tenantId: profile.tenantId,
    user:
      profile.refreshToken === undefined
        ? { name: profile.clientId, type: 'servicePrincipal' }
        : { name: profile.userName ?? '', type: 'user' },
    caCertificate: profile.caCert === undefined ? 'system trust store' : 'saved in profile',
    profile: store.path,
  };
  context.print(shown, options.output, [
    { header: 'Profile', value: (s) => s.name },
    { header: 'Endpoint', value: (s) => s.endpoint },
    { header: 'SubscriptionId', value: (s) => s.id },
    { header: 'TenantId', value: (s) => s.tenantId },
    { header: 'User', value: (s) => s.user.name },
  ]);
}

async function accountSet(
  options: Required<SubscriptionOptions>,
  context: ActionContext,
): Promise<void> {
  const store = ProfileStore.locate(context.deps.env, context.deps.homeDir);
  const profile = await store.load();
  if (profile === undefined) {
    throw new CliError(
      'ERR_NOT_LOGGED_IN',
      `not logged in (no ${store.path}); run 'tether login'.`,
    );
  }
  const session = await context.session();
  await checkSubscription(session.client, options.subscription, context);
  const current = (await store.load()) ?? profile;
  await store.save({ ...current, subscriptionId: options.subscription });
}

async function listSubscriptions(client: ApiClient): Promise<Subscription[]> {
  return client.list<Subscription>('/subscriptions', { 'api-version': API_VERSIONS.subscriptions });
}

function accountEntry(
  subscription: Subscription,
  endpoint: string,
  tenantId: string,
  clientId: string,
  defaultId: string | undefined,
  type: AccountEntry['user']['type'] = 'servicePrincipal',
): AccountEntry {
  return {
    cloudName: 'Tether',
    endpoint,
    id: subscription.subscriptionId,
    name: subscription.displayName ?? subscription.subscriptionId,
    state: subscription.state ?? 'Enabled',
    tenantId: subscription.tenantId ?? tenantId,
    isDefault: subscription.subscriptionId.toLowerCase() === defaultId?.toLowerCase(),
    user: { name: clientId, type },
  };
}

/** A flag, else its environment variable, checked by the flag's own parser. */
function setting<T>(
  flag: string | undefined,
  deps: CliDeps,
  variable: string,
  name: string,
  parse: (value: string) => T,
): T {
  const fromEnvironment = flag === undefined;
  const value = flag ?? nonEmpty(deps.env[variable]);
  if (value === undefined) {
    throw usageError(`${name} is required (or set ${variable}).`, name);
  }
  try {
    return parse(value);
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    const source = fromEnvironment ? `${variable} (for ${name})` : name;
    const shown = name === '-p/--password' ? '' : ` '${value}'`;
    throw usageError(`${source}${shown} is invalid. ${error.message}`, name);
  }
}

function parseTenant(value: string): string {
  if (/^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253})$/.test(value)) return value;
  throw new InvalidArgumentError(
    'Expected a tenant id (GUID) or a domain name such as contoso.example.',
  );
}

function parseSecret(value: string): string {
  if (value !== '') return value;
  throw new InvalidArgumentError('The client secret is empty.');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
