// Numbered schema migrations, written with Kysely's schema builder so they run unchanged
// on SQLite and PostgreSQL. Never edit a released migration; add the next number.
import { Migrator, SqliteAdapter, sql, type Kysely, type Migration, type SqlBool } from 'kysely';

const text = 'text' as const;

export const migrations: Record<string, Migration> = {
  '0001_core': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('settings')
        .addColumn('key', text, (c) => c.primaryKey())
        .addColumn('value', text, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('subscriptions')
        .addColumn('subscription_id', text, (c) => c.primaryKey())
        .addColumn('display_name', text, (c) => c.notNull())
        .addColumn('state', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('resource_groups')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('subscription_id', text, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('location', text, (c) => c.notNull())
        .addColumn('tags', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('principals')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('type', text, (c) => c.notNull())
        .addColumn('display_name', text, (c) => c.notNull())
        .addColumn('app_id', text, (c) => c.unique())
        .addColumn('user_principal_name', text, (c) => c.unique())
        .addColumn('machine_id', text, (c) => c.unique())
        .addColumn('created_at', text, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('credentials')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('principal_id', text, (c) => c.notNull())
        .addColumn('kind', text, (c) => c.notNull())
        .addColumn('display_name', text, (c) => c.notNull())
        .addColumn('secret_hash', text)
        .addColumn('thumbprint_s256', text)
        .addColumn('certificate_pem', text)
        .addColumn('starts_at', text, (c) => c.notNull())
        .addColumn('expires_at', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('credentials_by_principal')
        .on('credentials')
        .column('principal_id')
        .execute();
      await db.schema
        .createTable('group_members')
        .addColumn('group_id', text, (c) => c.notNull())
        .addColumn('member_id', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'member_id'])
        .execute();
      await db.schema
        .createTable('signing_keys')
        .addColumn('kid', text, (c) => c.primaryKey())
        .addColumn('alg', text, (c) => c.notNull())
        .addColumn('private_jwk', text, (c) => c.notNull())
        .addColumn('public_jwk', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('retired_at', text)
        .execute();
      await db.schema
        .createTable('role_definitions')
        .addColumn('name', text, (c) => c.primaryKey())
        .addColumn('role_name', text, (c) => c.notNull())
        .addColumn('description', text, (c) => c.notNull())
        .addColumn('permissions', text, (c) => c.notNull())
        .addColumn('assignable_scopes', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('role_assignments')
        .addColumn('name', text, (c) => c.primaryKey())
        .addColumn('scope', text, (c) => c.notNull())
        .addColumn('role_definition_name', text, (c) => c.notNull())
        .addColumn('principal_id', text, (c) => c.notNull())
        .addColumn('principal_type', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('created_by', text, (c) => c.notNull())
        .addUniqueConstraint('role_assignments_unique', [
          'scope',
          'role_definition_name',
          'principal_id',
        ])
        .execute();
      await db.schema
        .createTable('machines')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('subscription_id', text, (c) => c.notNull())
        .addColumn('resource_group', text, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('location', text, (c) => c.notNull())
        .addColumn('tags', text, (c) => c.notNull())
        .addColumn('properties', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('machines_by_group')
        .on('machines')
        .columns(['subscription_id', 'resource_group'])
        .execute();
      await db.schema
        .createTable('activity_log')
        .addColumn('event_data_id', text, (c) => c.primaryKey())
        .addColumn('correlation_id', text, (c) => c.notNull())
        .addColumn('caller', text, (c) => c.notNull())
        .addColumn('operation_name', text, (c) => c.notNull())
        .addColumn('status', text, (c) => c.notNull())
        .addColumn('sub_status', text, (c) => c.notNull())
        .addColumn('resource_id', text, (c) => c.notNull())
        .addColumn('subscription_id', text)
        .addColumn('resource_group', text)
        .addColumn('http_method', text, (c) => c.notNull())
        .addColumn('client_ip', text, (c) => c.notNull())
        .addColumn('event_timestamp', text, (c) => c.notNull())
        .addColumn('properties', text, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('activity_by_subscription_time')
        .on('activity_log')
        .columns(['subscription_id', 'event_timestamp'])
        .execute();
    },
  },
  '0002_identity': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Clients that send only the SHA-1 `x5t` of their certificate are found by this column.
      await db.schema.alterTable('credentials').addColumn('thumbprint_sha1', text).execute();
      // The first characters of a client secret (Graph's `hint`): only the passwords whose hint
      // matches are hashed and compared, so a principal with several secrets costs one scrypt.
      await db.schema.alterTable('credentials').addColumn('secret_hint', text).execute();
      await db.schema.alterTable('principals').addColumn('description', text).execute();
      await db.schema
        .createIndex('credentials_by_thumbprint_s256')
        .on('credentials')
        .column('thumbprint_s256')
        .execute();
      await db.schema
        .createIndex('credentials_by_thumbprint_sha1')
        .on('credentials')
        .column('thumbprint_sha1')
        .execute();
      await db.schema
        .createIndex('group_members_by_member')
        .on('group_members')
        .column('member_id')
        .execute();
      await db.schema
        .createIndex('role_assignments_by_principal')
        .on('role_assignments')
        .column('principal_id')
        .execute();
      // A client assertion gets one token per audience: the primary key makes a replay fail to
      // insert, in every process that shares the database.
      await db.schema
        .createTable('client_assertions')
        .addColumn('app_id', text, (c) => c.notNull())
        .addColumn('audience', text, (c) => c.notNull())
        .addColumn('jti', text, (c) => c.notNull())
        .addColumn('expires_at', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('client_assertions_pk', ['app_id', 'audience', 'jti'])
        .execute();
      await db.schema
        .createIndex('client_assertions_by_expiry')
        .on('client_assertions')
        .column('expires_at')
        .execute();
    },
  },
  '0003_machine_agents': {
    async up(db: Kysely<unknown>): Promise<void> {
      // A machine's public-key credential: found by its key id (the client assertion's `kid`).
      await db.schema.alterTable('credentials').addColumn('key_id', text).execute();
      await db.schema.alterTable('credentials').addColumn('public_key', text).execute();
      await db.schema
        .createIndex('credentials_by_key_id')
        .on('credentials')
        .column('key_id')
        .execute();
      // What the control plane knows of a machine's agent: its identity, credential state and
      // last heartbeat. Kept apart from `machines` so a heartbeat is one narrow row update.
      await db.schema
        .createTable('machine_agents')
        .addColumn('machine_id', text, (c) => c.primaryKey())
        .addColumn('principal_id', text, (c) => c.notNull().unique())
        .addColumn('credential_expires_at', text, (c) => c.notNull())
        .addColumn('revoked_at', text)
        .addColumn('rotation_requested', 'integer', (c) => c.notNull())
        .addColumn('last_heartbeat_at', text)
        .addColumn('connected_since', text)
        .addColumn('report', text)
        .addColumn('onboarded_at', text, (c) => c.notNull())
        .execute();
      // An onboarding token's service principal may create at most max_machines machines.
      await db.schema
        .createTable('onboarding_tokens')
        .addColumn('principal_id', text, (c) => c.primaryKey())
        .addColumn('scope', text, (c) => c.notNull())
        .addColumn('max_machines', 'integer', (c) => c.notNull())
        .addColumn('machines_created', 'integer', (c) => c.notNull())
        .addColumn('expires_at', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('created_by', text, (c) => c.notNull())
        .execute();
    },
  },
  '0004_extensions': {
    async up(db: Kysely<unknown>): Promise<void> {
      const integer = 'integer' as const;
      await db.schema
        .createTable('machine_extensions')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('machine_id', text, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('location', text, (c) => c.notNull())
        .addColumn('tags', text, (c) => c.notNull())
        .addColumn('publisher', text, (c) => c.notNull())
        .addColumn('type', text, (c) => c.notNull())
        .addColumn('type_handler_version', text, (c) => c.notNull())
        .addColumn('resolved_version', text, (c) => c.notNull())
        .addColumn('auto_upgrade_minor_version', integer, (c) => c.notNull())
        .addColumn('enable_automatic_upgrade', integer, (c) => c.notNull())
        .addColumn('force_update_tag', text)
        .addColumn('settings', text, (c) => c.notNull())
        .addColumn('protected_settings', text)
        .addColumn('protected_key_id', text)
        .addColumn('sequence', integer, (c) => c.notNull())
        .addColumn('provisioning_state', text, (c) => c.notNull())
        .addColumn('instance_view', text)
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('machine_extensions_by_machine')
        .on('machine_extensions')
        .column('machine_id')
        .execute();
      await db.schema
        .createTable('extension_operations')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('subscription_id', text, (c) => c.notNull())
        .addColumn('machine_id', text, (c) => c.notNull())
        .addColumn('extension_id', text, (c) => c.notNull())
        .addColumn('kind', text, (c) => c.notNull())
        .addColumn('sequence', integer, (c) => c.notNull())
        .addColumn('status', text, (c) => c.notNull())
        .addColumn('error', text)
        .addColumn('started_at', text, (c) => c.notNull())
        .addColumn('deadline_at', text, (c) => c.notNull())
        .addColumn('delivered_at', text)
        .addColumn('ended_at', text)
        .addColumn('created_by', text, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('extension_operations_by_extension')
        .on('extension_operations')
        .columns(['extension_id', 'status'])
        .execute();
      await db.schema
        .createIndex('extension_operations_by_status')
        .on('extension_operations')
        .columns(['status', 'deadline_at'])
        .execute();
      await db.schema
        .createTable('extension_goal_states')
        .addColumn('machine_id', text, (c) => c.primaryKey())
        .addColumn('generation', integer, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('extension_packages')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('publisher', text, (c) => c.notNull())
        .addColumn('type', text, (c) => c.notNull())
        .addColumn('version', text, (c) => c.notNull())
        .addColumn('sha256', text, (c) => c.notNull())
        .addColumn('size', integer, (c) => c.notNull())
        .addColumn('signature', text, (c) => c.notNull())
        .addColumn('content', text, (c) => c.notNull())
        .addColumn('published_at', text, (c) => c.notNull())
        .addColumn('published_by', text, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('machine_metrics')
        .addColumn('machine_id', text, (c) => c.notNull())
        .addColumn('collected_at', text, (c) => c.notNull())
        .addColumn('received_at', text, (c) => c.notNull())
        .addColumn('sample', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('machine_metrics_pk', ['machine_id', 'collected_at'])
        .execute();
    },
  },
  '0005_extension_operations_by_machine': {
    async up(db: Kysely<unknown>): Promise<void> {
      // A machine's goal state reads its operations in progress: without this, a scan of every
      // machine's operations.
      await db.schema
        .createIndex('extension_operations_by_machine')
        .on('extension_operations')
        .columns(['machine_id', 'status'])
        .execute();
    },
  },
  '0007_guest_configuration': {
    async up(db: Kysely<unknown>): Promise<void> {
      const integer = 'integer' as const;
      await db.schema
        .createTable('guest_configuration_assignments')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('machine_id', text, (c) => c.notNull())
        .addColumn('subscription_id', text, (c) => c.notNull())
        .addColumn('resource_group', text, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('configuration_name', text, (c) => c.notNull())
        .addColumn('configuration_version', text, (c) => c.notNull())
        .addColumn('publisher', text, (c) => c.notNull())
        .addColumn('content_uri', text, (c) => c.notNull())
        .addColumn('content_hash', text, (c) => c.notNull())
        .addColumn('assignment_type', text, (c) => c.notNull())
        .addColumn('parameters', text, (c) => c.notNull())
        .addColumn('frequency_minutes', integer, (c) => c.notNull())
        .addColumn('context', text, (c) => c.notNull())
        .addColumn('policy_assignment_ids', text, (c) => c.notNull())
        .addColumn('compliance_status', text, (c) => c.notNull())
        .addColumn('last_checked', text)
        .addColumn('latest_report_id', text)
        .addColumn('provisioning_state', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('guest_configuration_assignments_by_machine')
        .on('guest_configuration_assignments')
        .column('machine_id')
        .execute();
      await db.schema
        .createIndex('guest_configuration_assignments_by_group')
        .on('guest_configuration_assignments')
        .columns(['subscription_id', 'resource_group'])
        .execute();
      await db.schema
        .createTable('guest_configuration_reports')
        .addColumn('assignment_id', text, (c) => c.notNull())
        .addColumn('report_id', text, (c) => c.notNull())
        .addColumn('machine_id', text, (c) => c.notNull())
        .addColumn('start_time', text, (c) => c.notNull())
        .addColumn('end_time', text, (c) => c.notNull())
        .addColumn('compliance_status', text, (c) => c.notNull())
        .addColumn('operation_type', text, (c) => c.notNull())
        .addColumn('resources', text, (c) => c.notNull())
        .addColumn('received_at', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('guest_configuration_reports_pk', ['assignment_id', 'report_id'])
        .execute();
      await db.schema
        .createIndex('guest_configuration_reports_by_time')
        .on('guest_configuration_reports')
        .columns(['assignment_id', 'end_time'])
        .execute();
      await db.schema
        .createTable('guest_configuration_machines')
        .addColumn('machine_id', text, (c) => c.primaryKey())
        .addColumn('generation', integer, (c) => c.notNull())
        .addColumn('evaluation_request', integer, (c) => c.notNull())
        .addColumn('disabled_reason', text)
        .addColumn('reconciled_for', text)
        .execute();
      // One row per (machine, policy assignment, member definition): summarize is a GROUP BY here.
      await db.schema
        .createTable('policy_states')
        .addColumn('machine_id', text, (c) => c.notNull())
        .addColumn('policy_assignment_id', text, (c) => c.notNull())
        .addColumn('reference_id', text, (c) => c.notNull())
        .addColumn('subscription_id', text, (c) => c.notNull())
        .addColumn('resource_group', text, (c) => c.notNull())
        .addColumn('policy_assignment_name', text, (c) => c.notNull())
        .addColumn('policy_definition_id', text, (c) => c.notNull())
        .addColumn('policy_set_definition_id', text)
        .addColumn('definition_action', text, (c) => c.notNull())
        .addColumn('gc_assignment_name', text)
        .addColumn('compliance_state', text, (c) => c.notNull())
        .addColumn('exempt', integer, (c) => c.notNull())
        .addColumn('exempt_until', text)
        .addColumn('timestamp', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('policy_states_pk', [
          'machine_id',
          'policy_assignment_id',
          'reference_id',
        ])
        .execute();
      await db.schema
        .createIndex('policy_states_by_group')
        .on('policy_states')
        .columns(['subscription_id', 'resource_group'])
        .execute();
    },
  },
  '0008_policy': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Policy definitions and policy set definitions share one table: `kind` tells them apart.
      await db.schema
        .createTable('policy_definitions')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('kind', text, (c) => c.notNull())
        .addColumn('scope', text, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('properties', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('created_by', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .addColumn('updated_by', text, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('policy_assignments')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('scope', text, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('policy_definition_id', text, (c) => c.notNull())
        .addColumn('location', text)
        .addColumn('properties', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('created_by', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .addColumn('updated_by', text, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('policy_assignments_by_scope')
        .on('policy_assignments')
        .column('scope')
        .execute();
      await db.schema
        .createTable('policy_exemptions')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('scope', text, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('policy_assignment_id', text, (c) => c.notNull())
        .addColumn('expires_on', text)
        .addColumn('properties', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('created_by', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .addColumn('updated_by', text, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('policy_exemptions_by_assignment')
        .on('policy_exemptions')
        .column('policy_assignment_id')
        .execute();
    },
  },
  '0009_compliance_at_scale': {
    async up(db: Kysely<unknown>): Promise<void> {
      // The few machines whose agent has guest configuration switched off (or runs in monitor
      // mode), found without reading every heartbeat. Compliance queries name this condition
      // word for word (compliance/policy-state-query.ts), which is what lets both databases use
      // the partial index.
      await db.schema
        .createIndex('machine_agents_guest_configuration_off')
        .on('machine_agents')
        .column('machine_id')
        .where(
          sql<SqlBool>`report like '%"guestConfigurationEnabled":"false"%' or report like '%"configMode":"monitor"%'`,
        )
        .execute();
      await db.schema
        .createIndex('guest_configuration_machines_switched_off')
        .on('guest_configuration_machines')
        .column('machine_id')
        .where(sql<SqlBool>`disabled_reason is not null`)
        .execute();
    },
  },
  '0010_local_changes': {
    async up(db: Kysely<unknown>): Promise<void> {
      // How far each machine identity's journal of local configuration changes is stored in the
      // activity log: a retried heartbeat adds nothing, and the answer acknowledges this.
      await db.schema
        .createTable('machine_local_changes')
        .addColumn('principal_id', text, (c) => c.primaryKey())
        .addColumn('machine_id', text, (c) => c.notNull())
        .addColumn('acknowledged', 'integer', (c) => c.notNull())
        .execute();
    },
  },
  '0011_sign_in': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('principals').addColumn('reply_urls', text).execute();
      await db.schema
        .createTable('sign_in_sessions')
        .addColumn('id_hash', text, (c) => c.primaryKey())
        .addColumn('user_id', text, (c) => c.notNull())
        .addColumn('credential_id', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('expires_at', text, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('authorization_codes')
        .addColumn('code_hash', text, (c) => c.primaryKey())
        .addColumn('client_id', text, (c) => c.notNull())
        .addColumn('user_id', text, (c) => c.notNull())
        .addColumn('credential_id', text, (c) => c.notNull())
        .addColumn('redirect_uri', text, (c) => c.notNull())
        .addColumn('code_challenge', text, (c) => c.notNull())
        .addColumn('scope', text, (c) => c.notNull())
        .addColumn('nonce', text)
        .addColumn('expires_at', text, (c) => c.notNull())
        .addColumn('used_at', text)
        .execute();
      await db.schema
        .createTable('refresh_tokens')
        .addColumn('token_hash', text, (c) => c.primaryKey())
        .addColumn('family_id', text, (c) => c.notNull())
        .addColumn('user_id', text, (c) => c.notNull())
        .addColumn('client_id', text, (c) => c.notNull())
        .addColumn('credential_id', text, (c) => c.notNull())
        .addColumn('scope', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('expires_at', text, (c) => c.notNull())
        .addColumn('used_at', text)
        .addColumn('revoked_at', text)
        .execute();
      // Sign-out and a new password revoke every token of one person; reuse revokes a family.
      await db.schema
        .createIndex('refresh_tokens_by_user')
        .on('refresh_tokens')
        .column('user_id')
        .execute();
      await db.schema
        .createIndex('refresh_tokens_by_family')
        .on('refresh_tokens')
        .column('family_id')
        .execute();
      await db.schema
        .createTable('device_codes')
        .addColumn('device_code_hash', text, (c) => c.primaryKey())
        .addColumn('user_code', text, (c) => c.notNull().unique())
        .addColumn('client_id', text, (c) => c.notNull())
        .addColumn('scope', text, (c) => c.notNull())
        .addColumn('status', text, (c) => c.notNull())
        .addColumn('user_id', text)
        .addColumn('credential_id', text)
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('expires_at', text, (c) => c.notNull())
        .addColumn('last_polled_at', text)
        .execute();
    },
  },
  '0012_policy_states_stored': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Each state's effective compliance and its machine's worst, written when an input
      // changes (compliance/policy-state-restate.ts), so summarize is one GROUP BY over an index.
      const integer = 'integer' as const;
      await db.schema
        .alterTable('guest_configuration_machines')
        .addColumn('switched_off', integer, (c) => c.notNull().defaultTo(0))
        .execute();
      await sql`update guest_configuration_machines set switched_off = 1 where machine_id in (
        select machine_id from machine_agents where report like '%"guestConfigurationEnabled":"false"%'
          or report like '%"configMode":"monitor"%')`.execute(db);
      await sql`insert into guest_configuration_machines
          (machine_id, generation, evaluation_request, disabled_reason, reconciled_for, switched_off)
        select machine_id, 0, 0, null, null, 1 from machine_agents
        where (report like '%"guestConfigurationEnabled":"false"%' or report like '%"configMode":"monitor"%')
          and machine_id not in (select machine_id from guest_configuration_machines)`.execute(db);
      await db.schema.dropIndex('machine_agents_guest_configuration_off').execute();
      await db.schema
        .alterTable('policy_states')
        .addColumn('state', text, (c) => c.notNull().defaultTo('Unknown'))
        .execute();
      await db.schema.alterTable('policy_states').addColumn('assignment_rank', integer).execute();
      await db.schema.alterTable('policy_states').addColumn('machine_rank', integer).execute();
      await db.schema
        .createIndex('policy_states_summary')
        .on('policy_states')
        .columns([
          'subscription_id',
          'policy_assignment_id',
          'reference_id',
          'state',
          'assignment_rank',
          'machine_rank',
        ])
        .execute();
      // The exemptions that will run out: found at each read without scanning the states.
      await db.schema
        .createIndex('policy_states_exempt_until')
        .on('policy_states')
        .column('exempt_until')
        .where(sql<SqlBool>`state = 'Exempt'`)
        .execute();
      // Existing states: exemptions count as stored until the first read finds them expired.
      await sql`update policy_states set state = case
          when exempt = 1 then 'Exempt'
          when gc_assignment_name is not null and exists (select 1 from guest_configuration_machines g
            where g.machine_id = policy_states.machine_id
              and (g.disabled_reason is not null or g.switched_off = 1)) then 'NonCompliant'
          else compliance_state end`.execute(db);
      await sql`update policy_states set
          assignment_rank = case when not exists (select 1 from policy_states p
              where p.machine_id = policy_states.machine_id
                and p.policy_assignment_id = policy_states.policy_assignment_id
                and p.reference_id < policy_states.reference_id)
            then (select min(case p.state when 'NonCompliant' then 0 when 'Compliant' then 1
                when 'Exempt' then 2 else 3 end) from policy_states p
              where p.machine_id = policy_states.machine_id
                and p.policy_assignment_id = policy_states.policy_assignment_id) end,
          machine_rank = case when not exists (select 1 from policy_states p
              where p.machine_id = policy_states.machine_id
                and (p.policy_assignment_id < policy_states.policy_assignment_id
                  or (p.policy_assignment_id = policy_states.policy_assignment_id
                    and p.reference_id < policy_states.reference_id)))
            then (select min(case p.state when 'NonCompliant' then 0 when 'Compliant' then 1
                when 'Exempt' then 2 else 3 end) from policy_states p
              where p.machine_id = policy_states.machine_id) end`.execute(db);
    },
  },
  '0013_policy_match_requests': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Scopes whose machines are still to be matched against a policy change: kept until done,
      // so matching interrupted by a restart resumes (guest-configuration/policy-matcher.ts).
      await db.schema
        .createTable('policy_match_requests')
        .addColumn('scope', text, (c) => c.primaryKey())
        .addColumn('requests', 'integer', (c) => c.notNull())
        .execute();
    },
  },
  '0014_signing_key_encryption': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Which key-encryption key wraps each private key; existing keys stay in the clear until
      // a server is given a key-encryption key, and then are wrapped all at once
      // (identity/signing-key-wrapping.ts).
      await db.schema.alterTable('signing_keys').addColumn('kek_id', text).execute();
    },
  },
  '0015_local_change_journal_id': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Which journal the acknowledgement counts in: a journal created afresh numbers from 1
      // again. Journals stored so far had no id ('').
      await db.schema
        .alterTable('machine_local_changes')
        .addColumn('journal_id', text, (c) => c.notNull().defaultTo(''))
        .execute();
    },
  },
  '0016_machine_agents_last_heartbeat': {
    async up(db: Kysely<unknown>): Promise<void> {
      // A machine's status is a function of its last heartbeat and the time: listing the
      // Connected ones is a range of this index, not a pass over every agent.
      await db.schema
        .createIndex('machine_agents_last_heartbeat')
        .on('machine_agents')
        .column('last_heartbeat_at')
        .execute();
    },
  },
  '0017_agent_packages': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Agent packages the control plane can roll out to machines (agent-upgrade/); a version
      // is immutable once published.
      await db.schema
        .createTable('agent_packages')
        .addColumn('version', text, (c) => c.primaryKey())
        .addColumn('sha256', text, (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('content', text, (c) => c.notNull())
        .addColumn('published_at', text, (c) => c.notNull())
        .addColumn('published_by', text, (c) => c.notNull())
        .execute();
    },
  },
  '0018_sign_in_failures': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Failed sign-ins counted in the database, so that a node started later, or one that
      // lost its notifications, reads the counts every node made (identity/sign-in-throttle.ts).
      await db.schema
        .createTable('sign_in_failures')
        .addColumn('throttle', text, (c) => c.notNull())
        .addColumn('key', text, (c) => c.notNull())
        .addColumn('window_start', 'bigint', (c) => c.notNull())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('sign_in_failures_pk', ['throttle', 'key'])
        .execute();
    },
  },
  '0019_machine_agents_without_last_heartbeat_index': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Every heartbeat rewrites last_heartbeat_at, and keeping 0016's index made that update
      // about three times dearer, while the status filters it was for gained a millisecond or
      // two at 10,000 machines: the status is worked out in the query over the join instead.
      await db.schema.dropIndex('machine_agents_last_heartbeat').execute();
    },
  },
  '0020_agent_package_signatures': {
    async up(db: Kysely<unknown>): Promise<void> {
      // The publisher's signature of each agent package, handed to machines in the goal state;
      // a package published before signatures has none, and every machine refuses it.
      await db.schema
        .alterTable('agent_packages')
        .addColumn('signature', text, (c) => c.notNull().defaultTo(''))
        .execute();
    },
  },
  '0021_liveness_log': {
    async up(db: Kysely<unknown>): Promise<void> {
      // A heartbeat whose report did not change appends (machine, time) here instead of
      // rewriting the machine's agent row; a background fold moves the newest time per machine
      // into machine_agents and deletes what it folded (machines/liveness-log.ts). On SQLite
      // the key is the table itself (WITHOUT ROWID): one B-tree written per heartbeat.
      const table = db.schema
        .createTable('liveness_log')
        .addColumn('machine_id', text, (c) => c.notNull())
        .addColumn('at', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('liveness_log_pk', ['machine_id', 'at']);
      await (isSqlite(db) ? table.modifyEnd(sql`without rowid`) : table).execute();
      // A hash of the report last written to the row: an unchanged report is told by it.
      await db.schema.alterTable('machine_agents').addColumn('report_hash', text).execute();
    },
  },
};

function isSqlite(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

/** Brings the schema to the newest migration; fails loudly, changing nothing more, on error. */
export async function migrateToLatest(db: Kysely<unknown>, schema?: string): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    // Kysely's bookkeeping tables go beside the data: without this, PostgreSQL runs in two
    // schemas at once would share (and trip over) one migration lock table.
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error !== undefined || failed !== undefined) {
    const which =
      failed === undefined ? 'database migration' : `database migration ${failed.migrationName}`;
    const why = error instanceof Error ? `: ${error.message}` : '';
    throw new Error(`${which} failed${why}`, { cause: error });
  }
}
