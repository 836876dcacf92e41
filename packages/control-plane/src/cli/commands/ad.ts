// `tether ad`: the directory's principal groups and users (az ad group / az ad user); groups
// can be assigned roles, and their members inherit them.
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { processCliDeps, type CliDeps } from '../client/cli-deps.js';
import { usageError } from '../client/cli-error.js';
import {
  configureGroup,
  defineAction,
  outputOption,
  type OutputOptions,
} from '../client/command-kit.js';
import { findGroup, findPrincipal } from '../client/directory-lookup.js';
import { odataString } from '../client/odata.js';
import type { Column } from '../client/output-format.js';
import type { DirectoryGroup, DirectoryMember, DirectoryUser } from '../client/wire-types.js';

interface GroupOptions extends OutputOptions {
  group: string;
}

interface MemberOptions extends GroupOptions {
  memberId: string;
}

const GROUP_COLUMNS: readonly Column<DirectoryGroup>[] = [
  { header: 'DisplayName', value: (g) => g.displayName },
  { header: 'Id', value: (g) => g.id },
  { header: 'Description', value: (g) => g.description },
];

const MEMBER_COLUMNS: readonly Column<DirectoryMember>[] = [
  { header: 'DisplayName', value: (m) => m.displayName },
  { header: 'Type', value: (m) => m['@odata.type']?.replace(/^#microsoft\.graph\./, '') },
  { header: 'Id', value: (m) => m.id },
];

const USER_COLUMNS: readonly Column<DirectoryUser>[] = [
  { header: 'DisplayName', value: (u) => u.displayName },
  { header: 'UserPrincipalName', value: (u) => u.userPrincipalName },
  { header: 'Id', value: (u) => u.id },
];

export function register(program: Command, deps: CliDeps = processCliDeps()): void {
  const ad = configureGroup(program.command('ad'), deps).description(
    'The directory: principal groups and users (az ad).',
  );
  registerGroups(ad, deps);
  registerUsers(ad, deps);
  // `tether user …` is the same group under the shorter name.
  registerUsers(program, deps);
}

interface PasswordOptions {
  password?: string;
  passwordFile?: string;
}

/** The password from --password or the first line of --password-file; undefined when neither. */
async function passwordOf(options: PasswordOptions): Promise<string | undefined> {
  if (options.password !== undefined && options.passwordFile !== undefined) {
    throw usageError('pass either --password or --password-file, not both.', '--password');
  }
  if (options.passwordFile === undefined) return options.password;
  let text: string;
  try {
    text = await readFile(options.passwordFile, 'utf8');
  } catch (error) {
    throw usageError(
      `--password-file '${options.passwordFile}' cannot be read: ${(error as Error).message}.`,
      '--password-file',
    );
  }
  return text.split(/\r?\n/)[0] ?? '';
}

function registerGroups(ad: Command, deps: CliDeps): void {
  const group = ad
    .command('group')
    .description('Principal groups; role assignments to a group reach its members.');
  group
    .command('create')
    .description('Create a group.')
    .requiredOption('--display-name <name>', 'display name', parseDisplayName)
    .option('--mail-nickname <name>', 'accepted for az compatibility; Tether groups have no mail')
    .option('--description <text>', 'description')
    .addOption(outputOption())
    .action(
      defineAction<OutputOptions & { displayName: string; description?: string }>(
        deps,
        async (o, c) => {
          const { client } = await c.session();
          const existing = await client.list<DirectoryGroup>('/v1.0/groups', {
            $filter: `displayName eq ${odataString(o.displayName)}`,
          });
          if (existing.some((g) => g.displayName === o.displayName)) {
            c.warn(
              `another group is already named '${o.displayName}'; use object ids to tell them apart.`,
            );
          }
          const created = await client.post<DirectoryGroup>('/v1.0/groups', {
            displayName: o.displayName,
            ...(o.description === undefined ? {} : { description: o.description }),
          });
          c.print(created, o.output, GROUP_COLUMNS);
        },
      ),
    );
  group
    .command('list')
    .description('List groups.')
    .option('--display-name <name>', 'only groups with this display name')
    .addOption(outputOption())
    .action(
      defineAction<OutputOptions & { displayName?: string }>(deps, async (o, c) => {
        const { client } = await c.session();
        const query =
          o.displayName === undefined
            ? {}
            : { $filter: `displayName eq ${odataString(o.displayName)}` };
        c.print(await client.list<DirectoryGroup>('/v1.0/groups', query), o.output, GROUP_COLUMNS);
      }),
    );
  group
    .command('show')
    .description('Show a group.')
    .requiredOption('-g, --group <group>', 'object id or display name')
    .addOption(outputOption())
    .action(
      defineAction<GroupOptions>(deps, async (o, c) => {
        const { client } = await c.session();
        c.print(await findGroup(client, o.group), o.output, GROUP_COLUMNS);
      }),
    );
  group
    .command('delete')
    .description('Delete a group and the role assignments made to it.')
    .requiredOption('-g, --group <group>', 'object id or display name')
    .action(
      defineAction<GroupOptions>(deps, async (o, c) => {
        const { client } = await c.session();
        const found = await findGroup(client, o.group);
        await client.delete(`/v1.0/groups/${encodeURIComponent(found.id)}`);
      }),
    );

  const member = group.command('member').description("A group's members.");
  member
    .command('add')
    .description('Add a user, service principal or group to a group.')
    .requiredOption('-g, --group <group>', 'object id or display name')
    .requiredOption('--member-id <member>', 'object id, appId or user principal name of the member')
    .action(
      defineAction<MemberOptions>(deps, async (o, c) => {
        const session = await c.session();
        const target = await findGroup(session.client, o.group);
        const added = await findPrincipal(session.client, o.memberId, '--member-id');
        await session.client.post(`/v1.0/groups/${encodeURIComponent(target.id)}/members/$ref`, {
          '@odata.id': `${session.endpoint}/v1.0/directoryObjects/${added.id}`,
        });
      }),
    );
  member
    .command('remove')
    .description('Remove a member from a group.')
    .requiredOption('-g, --group <group>', 'object id or display name')
    .requiredOption('--member-id <member>', 'object id, appId or user principal name of the member')
    .action(
      defineAction<MemberOptions>(deps, async (o, c) => {
        const { client } = await c.session();
        const target = await findGroup(client, o.group);
        const removed = await findPrincipal(client, o.memberId, '--member-id');
        await client.delete(
          `/v1.0/groups/${encodeURIComponent(target.id)}/members/${encodeURIComponent(removed.id)}/$ref`,
        );
      }),
    );
  member
    .command('list')
    .description("List a group's direct members.")
    .requiredOption('-g, --group <group>', 'object id or display name')
    .addOption(outputOption())
    .action(
      defineAction<GroupOptions>(deps, async (o, c) => {
        const { client } = await c.session();
        const target = await findGroup(client, o.group);
        const members = await client.list<DirectoryMember>(
          `/v1.0/groups/${encodeURIComponent(target.id)}/members`,
        );
        c.print(members, o.output, MEMBER_COLUMNS);
      }),
    );
}

function registerUsers(ad: Command, deps: CliDeps): void {
  const user = configureGroup(ad.command('user'), deps).description(
    'Users of the directory: people who sign in with a password.',
  );
  user
    .command('create')
    .description('Create a user.')
    .requiredOption('--display-name <name>', 'display name', parseDisplayName)
    .requiredOption(
      '--user-principal-name <upn>',
      'sign-in name such as ada@contoso.example',
      parseUserPrincipalName,
    )
    .option(
      '--password <password>',
      'the password the user signs in with (shows in the process list)',
    )
    .option('--password-file <file>', 'read the password from the first line of this file')
    .addOption(outputOption())
    .action(
      defineAction<
        OutputOptions & PasswordOptions & { displayName: string; userPrincipalName: string }
      >(deps, async (o, c) => {
        const password = await passwordOf(o);
        const { client } = await c.session();
        const created = await client.post<DirectoryUser>('/v1.0/users', {
          displayName: o.displayName,
          userPrincipalName: o.userPrincipalName,
          ...(password === undefined ? {} : { passwordProfile: { password } }),
        });
        c.print(created, o.output, USER_COLUMNS);
      }),
    );
  user
    .command('list')
    .description('List users.')
    .addOption(outputOption())
    .action(
      defineAction<OutputOptions>(deps, async (o, c) => {
        const { client } = await c.session();
        c.print(await client.list<DirectoryUser>('/v1.0/users'), o.output, USER_COLUMNS);
      }),
    );
  user
    .command('set-password')
    .description("Set a user's password (an administrator's reset); their tokens stop working.")
    .requiredOption('--id <user>', 'object id or user principal name')
    .option('--password <password>', 'the new password (shows in the process list)')
    .option('--password-file <file>', 'read the new password from the first line of this file')
    .action(
      defineAction<PasswordOptions & { id: string }>(deps, async (o, c) => {
        const password = await passwordOf(o);
        if (password === undefined) {
          throw usageError(
            'pass the new password with --password or --password-file.',
            '--password',
          );
        }
        const { client } = await c.session();
        const found = await findPrincipal(client, o.id, '--id');
        if (found.type !== 'User') {
          throw usageError(`--id '${o.id}' is a ${found.type}, not a user.`, '--id');
        }
        await client.patch(`/v1.0/users/${encodeURIComponent(found.id)}`, {
          passwordProfile: { password },
        });
      }),
    );
  user
    .command('delete')
    .description('Delete a user and the role assignments made to it.')
    .requiredOption('--id <user>', 'object id or user principal name')
    .action(
      defineAction<{ id: string }>(deps, async (o, c) => {
        const { client } = await c.session();
        const found = await findPrincipal(client, o.id, '--id');
        if (found.type !== 'User') {
          throw usageError(`--id '${o.id}' is a ${found.type}, not a user.`, '--id');
        }
        await client.delete(`/v1.0/users/${encodeURIComponent(found.id)}`);
      }),
    );
}

function parseDisplayName(value: string): string {
  if (value.trim() !== '' && value.length <= 256) return value;
  throw new InvalidArgumentError('A display name is 1-256 characters and not only spaces.');
}

function parseUserPrincipalName(value: string): string {
  if (/^[^@\s]+@[^@\s]+$/.test(value)) return value;
  throw new InvalidArgumentError('Expected name@domain, such as ada@contoso.example.');
}
