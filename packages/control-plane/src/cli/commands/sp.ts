// `tether sp`: service principals as `az ad sp` manages them — create-for-rbac, list, show,
// delete, and password or certificate credentials (a secret is printed only when created).
import { Option, type Command } from 'commander';
import type { ApiClient } from '../client/api-client.js';
import { processCliDeps, type CliDeps } from '../client/cli-deps.js';
import { CliError, usageError } from '../client/cli-error.js';
import {
  configureGroup,
  defineAction,
  outputOption,
  type ActionContext,
  type OutputOptions,
} from '../client/command-kit.js';
import { credentialEnd, type LifetimeOptions } from '../client/credential-lifetime.js';
import { findServicePrincipal } from '../client/directory-lookup.js';
import { odataString } from '../client/odata.js';
import type { Column } from '../client/output-format.js';
import {
  parseDateTime,
  parseGuid,
  parsePositiveInteger,
  parseScopeArgument,
} from '../client/parsers.js';
import { readPemCertificates } from '../client/pem-certificates.js';
import { assignRole } from '../client/role-assignments.js';
import { findRoleDefinition } from '../client/role-lookup.js';
import type { KeyCredential, PasswordCredential, ServicePrincipal } from '../client/wire-types.js';

interface CreateOptions extends OutputOptions, LifetimeOptions {
  name?: string;
  role?: string;
  scopes?: string[];
}

interface CredentialOptions extends OutputOptions, LifetimeOptions {
  id: string;
  append?: boolean;
  displayName?: string;
  cert?: string;
}

const SECRET_WARNING =
  'The output includes credentials that you must protect. Do not include them in your code or check them into source control.';

const SP_COLUMNS: readonly Column<ServicePrincipal>[] = [
  { header: 'DisplayName', value: (sp) => sp.displayName },
  { header: 'AppId', value: (sp) => sp.appId },
  { header: 'Id', value: (sp) => sp.id },
];

const SECRET_COLUMNS: readonly Column<{ appId: string; password: string; tenant: string }>[] = [
  { header: 'AppId', value: (c) => c.appId },
  { header: 'Password', value: (c) => c.password },
  { header: 'Tenant', value: (c) => c.tenant },
];

interface CredentialRow {
  keyId: string;
  type: 'Password' | 'AsymmetricX509Cert';
  displayName?: string;
  startDateTime?: string;
  endDateTime?: string;
  customKeyIdentifier?: string;
}

const CREDENTIAL_COLUMNS: readonly Column<CredentialRow>[] = [
  { header: 'KeyId', value: (c) => c.keyId },
  { header: 'Type', value: (c) => c.type },
  { header: 'DisplayName', value: (c) => c.displayName },
  { header: 'EndDateTime', value: (c) => c.endDateTime },
];

export function register(program: Command, deps: CliDeps = processCliDeps()): void {
  const sp = configureGroup(program.command('sp'), deps).description(
    'Service principals: the identities scripts and servers sign in as (az ad sp).',
  );
  sp.command('create-for-rbac')
    .description('Create a service principal with a secret, optionally assigning it a role.')
    .option('-n, --name <displayName>', "display name (default 'tether-<date>-<time>')")
    .option('--role <role>', 'role to assign: a role name or GUID (needs --scopes)')
    .option('--scopes <scope...>', 'space-separated scopes to assign --role at')
    .addOption(yearsOption())
    .addOption(endDateOption())
    .addOption(outputOption())
    .action(defineAction<CreateOptions>(deps, createForRbac));
  sp.command('list')
    .description('List service principals.')
    .option('--display-name <name>', 'only those with this display name')
    .option('--filter <odata>', 'an OData filter such as "appId eq \'…\'"')
    .addOption(outputOption())
    .action(
      defineAction<OutputOptions & { displayName?: string; filter?: string }>(
        deps,
        async (o, c) => {
          if (o.displayName !== undefined && o.filter !== undefined) {
            throw usageError('pass either --display-name or --filter, not both.', '--filter');
          }
          const filter =
            o.displayName === undefined ? o.filter : `displayName eq ${odataString(o.displayName)}`;
          const { client } = await c.session();
          const list = await client.list<ServicePrincipal>(
            '/v1.0/servicePrincipals',
            filter === undefined ? {} : { $filter: filter },
          );
          c.print(list, o.output, SP_COLUMNS);
        },
      ),
    );
  sp.command('show')
    .description('Show a service principal.')
    .requiredOption('--id <appIdOrObjectId>', 'appId or object id')
    .addOption(outputOption())
    .action(
      defineAction<OutputOptions & { id: string }>(deps, async (o, c) => {
        const { client } = await c.session();
        c.print(await findServicePrincipal(client, o.id), o.output, SP_COLUMNS);
      }),
    );
  sp.command('delete')
    .description(
      'Delete a service principal with its credentials, memberships and role assignments.',
    )
    .requiredOption('--id <appIdOrObjectId>', 'appId or object id')
    .action(
      defineAction<{ id: string }>(deps, async (o, c) => {
        const { client } = await c.session();
        const found = await findServicePrincipal(client, o.id);
        await client.delete(`/v1.0/servicePrincipals/${encodeURIComponent(found.id)}`);
      }),
    );

  sp.command('set-reply-urls')
    .description(
      "Set the addresses a web app's people may be sent to after signing in (Graph replyUrls); loopback addresses need none.",
    )
    .requiredOption('--id <appIdOrObjectId>', 'appId or object id')
    .option('--reply-urls <url...>', 'space-separated https addresses, replacing the current list')
    .option('--clear', 'remove every reply address')
    .addOption(outputOption())
    .action(
      defineAction<OutputOptions & { id: string; replyUrls?: string[]; clear?: boolean }>(
        deps,
        async (o, c) => {
          if ((o.replyUrls === undefined) === (o.clear !== true)) {
            throw usageError('pass either --reply-urls URL… or --clear.', '--reply-urls');
          }
          const { client } = await c.session();
          const found = await findServicePrincipal(client, o.id);
          const path = `/v1.0/servicePrincipals/${encodeURIComponent(found.id)}`;
          await client.patch(path, { replyUrls: o.replyUrls ?? [] });
          c.print(await client.get<ServicePrincipal>(path), o.output, [
            ...SP_COLUMNS,
            { header: 'ReplyUrls', value: (p) => (p.replyUrls ?? []).join(' ') },
          ]);
        },
      ),
    );

  const credential = sp.command('credential').description("A service principal's credentials.");
  credential
    .command('reset')
    .description('Issue a new secret and, unless --append, remove the existing secrets.')
    .requiredOption('--id <appIdOrObjectId>', 'appId or object id')
    .option('--append', 'keep the existing secrets')
    .option('--display-name <name>', 'name of the new secret', 'rbac')
    .addOption(yearsOption())
    .addOption(endDateOption())
    .addOption(outputOption())
    .action(defineAction<CredentialOptions>(deps, (o, c) => addSecret(o, c, o.append !== true)));
  credential
    .command('add')
    .description('Add a secret, or with --cert a certificate, keeping the existing credentials.')
    .requiredOption('--id <appIdOrObjectId>', 'appId or object id')
    .option('--cert <file>', 'PEM certificate whose private key will sign client assertions')
    .option('--display-name <name>', 'name of the new credential', 'rbac')
    .addOption(yearsOption())
    .addOption(endDateOption())
    .addOption(outputOption())
    .action(
      defineAction<CredentialOptions>(deps, (o, c) =>
        o.cert === undefined ? addSecret(o, c, false) : addCertificate(o, c),
      ),
    );
  credential
    .command('list')
    .description(
      "List a service principal's secrets and certificates (never the secrets themselves).",
    )
    .requiredOption('--id <appIdOrObjectId>', 'appId or object id')
    .addOption(outputOption())
    .action(
      defineAction<OutputOptions & { id: string }>(deps, async (o, c) => {
        const { client } = await c.session();
        c.print(
          credentialRows(await findServicePrincipal(client, o.id)),
          o.output,
          CREDENTIAL_COLUMNS,
        );
      }),
    );
  credential
    .command('delete')
    .description('Remove one credential.')
    .requiredOption('--id <appIdOrObjectId>', 'appId or object id')
    .requiredOption('--key-id <keyId>', 'keyId of the credential (see credential list)', parseGuid)
    .action(
      defineAction<{ id: string; keyId: string }>(deps, async (o, c) => {
        const { client } = await c.session();
        const found = await findServicePrincipal(client, o.id);
        const row = credentialRows(found).find((r) => r.keyId.toLowerCase() === o.keyId);
        if (row === undefined) {
          throw new CliError(
            'ERR_NOT_FOUND',
            `service principal ${found.appId} has no credential with keyId ${o.keyId} (--key-id).`,
          );
        }
        const action = row.type === 'Password' ? 'removePassword' : 'removeKey';
        await client.post(`${spPath(found)}/${action}`, { keyId: row.keyId });
      }),
    );
}

async function createForRbac(options: CreateOptions, context: ActionContext): Promise<void> {
  const { deps } = context;
  if ((options.role === undefined) !== (options.scopes === undefined)) {
    throw usageError(
      'to create a role assignment, pass both --role and --scopes.',
      options.role === undefined ? '--role' : '--scopes',
    );
  }
  const scopes = (options.scopes ?? []).map(parseScopeArgumentAsUsage);
  const end = credentialEnd(options, deps.clock);
  const displayName = options.name ?? defaultName(deps.clock.now());
  if (displayName.trim() === '') throw usageError('--name is empty.', '--name');
  const session = await context.session();
  const { client } = session;
  const existing = (
    await client.list<ServicePrincipal>('/v1.0/servicePrincipals', {
      $filter: `displayName eq ${odataString(displayName)}`,
    })
  ).find((sp) => sp.displayName === displayName);
  if (existing !== undefined) {
    throw usageError(
      `a service principal named '${displayName}' already exists (appId ${existing.appId}); choose another --name, or get a new secret with 'tether sp credential reset --id ${existing.appId}'.`,
      '--name',
    );
  }
  // Resolve every role first, so a bad --role or --scopes creates nothing.
  const roles = [];
  for (const scope of scopes)
    roles.push(await findRoleDefinition(client, options.role ?? '', scope));

  const created = await client.post<ServicePrincipal>('/v1.0/servicePrincipals', { displayName });
  try {
    const secret = await client.post<PasswordCredential>(`${spPath(created)}/addPassword`, {
      passwordCredential: { displayName: 'rbac', endDateTime: end.toISOString() },
    });
    for (const [index, scope] of scopes.entries()) {
      await assignRole(client, {
        scope,
        roleDefinitionId: roles[index]?.id ?? '',
        principalId: created.id,
        principalType: 'ServicePrincipal',
      });
    }
    context.warn(SECRET_WARNING);
    const result = {
      appId: created.appId,
      displayName,
      password: secret.secretText ?? '',
      tenant: session.tenantId,
    };
    context.print(result, options.output, [
      { header: 'AppId', value: (r) => r.appId },
      { header: 'DisplayName', value: (r) => r.displayName },
      { header: 'Password', value: (r) => r.password },
      { header: 'Tenant', value: (r) => r.tenant },
    ]);
  } catch (error) {
    throw await rollBack(client, created, error);
  }
}

/** Removes a half-made service principal so a failed create-for-rbac leaves nothing behind. */
async function rollBack(
  client: ApiClient,
  created: ServicePrincipal,
  failure: unknown,
): Promise<unknown> {
  try {
    await client.delete(spPath(created));
    return failure;
  } catch {
    const reason = failure instanceof Error ? failure.message : String(failure);
    return new CliError(
      failure instanceof CliError ? failure.code : 'ERR_API',
      `${reason} Service principal ${created.appId} was created but could not be removed again; delete it with 'tether sp delete --id ${created.appId}'.`,
    );
  }
}

async function addSecret(
  options: CredentialOptions,
  context: ActionContext,
  replace: boolean,
): Promise<void> {
  const end = credentialEnd(options, context.deps.clock);
  const session = await context.session();
  const found = await findServicePrincipal(session.client, options.id);
  const secret = await session.client.post<PasswordCredential>(`${spPath(found)}/addPassword`, {
    passwordCredential: {
      displayName: options.displayName ?? 'rbac',
      endDateTime: end.toISOString(),
    },
  });
  if (replace) {
    for (const old of found.passwordCredentials ?? []) {
      if (old.keyId === secret.keyId) continue;
      await session.client.post(`${spPath(found)}/removePassword`, { keyId: old.keyId });
    }
  }
  context.warn(SECRET_WARNING);
  const result = {
    appId: found.appId,
    password: secret.secretText ?? '',
    tenant: session.tenantId,
  };
  context.print(result, options.output, SECRET_COLUMNS);
}

async function addCertificate(options: CredentialOptions, context: ActionContext): Promise<void> {
  const certificate = await readPemCertificates(options.cert ?? '', '--cert', true);
  const end = credentialEnd(options, context.deps.clock);
  const { client } = await context.session();
  const found = await findServicePrincipal(client, options.id);
  const key = await client.post<KeyCredential>(`${spPath(found)}/addKey`, {
    keyCredential: {
      displayName: options.displayName ?? 'rbac',
      key: certificate,
      endDateTime: end.toISOString(),
    },
  });
  context.print(
    { ...key, type: 'AsymmetricX509Cert' as const },
    options.output,
    CREDENTIAL_COLUMNS,
  );
}

function credentialRows(sp: ServicePrincipal): CredentialRow[] {
  return [
    ...(sp.passwordCredentials ?? []).map(({ secretText: _never, ...c }) => ({
      ...c,
      type: 'Password' as const,
    })),
    ...(sp.keyCredentials ?? []).map((c) => ({ ...c, type: 'AsymmetricX509Cert' as const })),
  ];
}

function spPath(sp: ServicePrincipal): string {
  return `/v1.0/servicePrincipals/${encodeURIComponent(sp.id)}`;
}

function defaultName(now: number): string {
  return `tether-${new Date(now).toISOString().slice(0, 19).replace(/[T:]/g, '-')}`;
}

function parseScopeArgumentAsUsage(scope: string): string {
  try {
    return parseScopeArgument(scope);
  } catch (error) {
    throw usageError(`--scopes: ${(error as Error).message}`, '--scopes');
  }
}

function yearsOption(): Option {
  return new Option('--years <n>', 'years the new credential is valid (default 1)').argParser(
    parsePositiveInteger,
  );
}

function endDateOption(): Option {
  return new Option('--end-date <date>', 'when the new credential expires (ISO 8601)').argParser(
    parseDateTime,
  );
}
