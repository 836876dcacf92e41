// Table shapes of the control plane's database, shared by the SQLite and PostgreSQL backends.
// Timestamps are ISO-8601 UTC strings (they sort as text on both backends); JSON columns are text.

export interface SettingsTable {
  key: string;
  value: string;
}

export interface SubscriptionsTable {
  subscription_id: string;
  display_name: string;
  state: string;
  created_at: string;
}

export interface ResourceGroupsTable {
  /** Lower-cased ARM id: the case-insensitive key. */
  id: string;
  subscription_id: string;
  /** Name as the creator spelled it. */
  name: string;
  location: string;
  tags: string;
  created_at: string;
}

export interface PrincipalsTable {
  /** Object id (GUID). */
  id: string;
  type: 'User' | 'Group' | 'ServicePrincipal';
  display_name: string;
  /** Application (client) id of a service principal. */
  app_id: string | null;
  /** Sign-in name of a user. */
  user_principal_name: string | null;
  /** Lower-cased ARM id of the machine whose system-assigned identity this is. */
  machine_id: string | null;
  /** Free text a group carries (0002). */
  description: string | null;
  created_at: string;
  /** JSON string[]: redirect URIs a web app registered for people's sign-in (0011). */
  reply_urls: string | null;
}

export interface CredentialsTable {
  /** keyId (GUID). */
  id: string;
  principal_id: string;
  kind: 'password' | 'certificate' | 'publicKey';
  display_name: string;
  /** Slow hash of a password credential; never the secret itself. */
  secret_hash: string | null;
  /** The first three characters of a password credential's secret, as Graph shows them (0002). */
  secret_hint: string | null;
  /** base64url SHA-256 thumbprint of a certificate credential (x5t#S256). */
  thumbprint_s256: string | null;
  /** base64url SHA-1 thumbprint (x5t), for clients that send only that (0002). */
  thumbprint_sha1: string | null;
  certificate_pem: string | null;
  /** base64url SHA-256 of a public-key credential's SPKI DER: the assertion's `kid` (0003). */
  key_id: string | null;
  /** base64 SPKI DER of a machine's public-key credential (0003). */
  public_key: string | null;
  starts_at: string;
  expires_at: string;
  created_at: string;
}

export interface GroupMembersTable {
  group_id: string;
  member_id: string;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  /** The private JWK: a compact JWE wrapped with the key-encryption key `kek_id`, or JSON. */
  private_jwk: string;
  public_jwk: string;
  /** Id of the key-encryption key that wraps `private_jwk`; null when stored in the clear (0014). */
  kek_id: string | null;
  created_at: string;
  /** When it stopped signing; it stays published until no token it signed can be live. */
  retired_at: string | null;
}

export interface RoleDefinitionsTable {
  /** GUID. */
  name: string;
  role_name: string;
  description: string;
  /** JSON Permission[]. */
  permissions: string;
  /** JSON string[] of normalized scopes. */
  assignable_scopes: string;
  created_at: string;
  updated_at: string;
}

export interface RoleAssignmentsTable {
  /** GUID. */
  name: string;
  /** Normalized scope. */
  scope: string;
  role_definition_name: string;
  principal_id: string;
  principal_type: 'User' | 'Group' | 'ServicePrincipal';
  created_at: string;
  created_by: string;
}

export interface MachinesTable {
  /** Lower-cased ARM id. */
  id: string;
  subscription_id: string;
  /** Lower-cased resource group name. */
  resource_group: string;
  name: string;
  location: string;
  tags: string;
  /** JSON of the ARM `properties` the control plane keeps. */
  properties: string;
  created_at: string;
  updated_at: string;
}

export interface ActivityLogTable {
  event_data_id: string;
  correlation_id: string;
  caller: string;
  operation_name: string;
  status: 'Succeeded' | 'Failed';
  sub_status: string;
  /** Lower-cased ARM id or scope the operation was about. */
  resource_id: string;
  subscription_id: string | null;
  resource_group: string | null;
  http_method: string;
  client_ip: string;
  event_timestamp: string;
  /** JSON object of extra detail (never secrets). */
  properties: string;
}

/** A client assertion already used to get a token for `audience`; kept until it would have expired. */
export interface ClientAssertionsTable {
  app_id: string;
  audience: string;
  jti: string;
  expires_at: string;
}

/** A machine's agent as the control plane knows it: identity, credential state, last report (0003). */
export interface MachineAgentsTable {
  /** Lower-cased ARM id of the machine. */
  machine_id: string;
  /** The machine's system-assigned identity. */
  principal_id: string;
  /** Expiry of the machine's current public-key credential. */
  credential_expires_at: string;
  /** When an operator revoked the credential; only re-onboarding clears it. */
  revoked_at: string | null;
  /** 1 when an operator asked for a new key: the next heartbeat answer says so. */
  rotation_requested: number;
  last_heartbeat_at: string | null;
  /** Start of the current run of heartbeats without a gap long enough to disconnect. */
  connected_since: string | null;
  /** JSON of the last heartbeat's facts, serviceStatuses and agentConfiguration. */
  report: string | null;
  /** Hash of `report`: a heartbeat reporting the same appends to liveness_log instead. */
  report_hash: string | null;
  onboarded_at: string;
}

/**
 * Heartbeats not yet folded into machine_agents (0021): each one whose report did not change
 * appends its machine and time; reads take the newer of the row's time and these.
 */
export interface LivenessLogTable {
  machine_id: string;
  at: string;
}

/** How far a machine identity's local changes are in the activity log (0010). */
export interface MachineLocalChangesTable {
  principal_id: string;
  /** Lower-cased ARM id of the machine. */
  machine_id: string;
  /** The id of the journal `acknowledged` counts in; '' for a journal without one (0015). */
  journal_id: string;
  /** The highest sequence of the agent's change journal stored. */
  acknowledged: number;
}

/** The service principal behind an onboarding token and how many machines it may still create (0003). */
export interface OnboardingTokensTable {
  principal_id: string;
  /** Normalized resource group scope the token onboards into. */
  scope: string;
  max_machines: number;
  machines_created: number;
  expires_at: string;
  created_at: string;
  created_by: string;
}

/** An extension resource on a machine: what an operator asked for and what the agent reported (0004). */
export interface MachineExtensionsTable {
  /** Lower-cased ARM id of the extension (`<machine id>/extensions/<name>`). */
  id: string;
  /** Lower-cased ARM id of the machine. */
  machine_id: string;
  /** Name as the creator spelled it. */
  name: string;
  location: string;
  tags: string;
  publisher: string;
  type: string;
  /** The version asked for (`1.0`, or exact). */
  type_handler_version: string;
  /** The package version it resolved to in the repository. */
  resolved_version: string;
  auto_upgrade_minor_version: number;
  enable_automatic_upgrade: number;
  force_update_tag: string | null;
  /** JSON of the public settings. */
  settings: string;
  /** Compact JWE of the protected settings, sealed to the machine's key; never clear text. */
  protected_settings: string | null;
  /** Key id the protected settings are sealed to. */
  protected_key_id: string | null;
  /** Increases with every change the agent must apply: the handler's `config/<seq>.settings`. */
  sequence: number;
  provisioning_state: 'Creating' | 'Updating' | 'Deleting' | 'Succeeded' | 'Failed';
  /** JSON of the last `instanceView` the agent reported. */
  instance_view: string | null;
  created_at: string;
  updated_at: string;
}

/** A long-running extension operation, as `Azure-AsyncOperation` reports it (0004). */
export interface ExtensionOperationsTable {
  /** GUID: the operation id in the operation-status URL. */
  id: string;
  subscription_id: string;
  machine_id: string;
  /** Lower-cased ARM id of the extension. */
  extension_id: string;
  kind: 'install' | 'update' | 'upgrade' | 'remove';
  /** The extension's sequence number the operation applies. */
  sequence: number;
  status: 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';
  /** JSON `{code, message}` of a failed or canceled operation. */
  error: string | null;
  started_at: string;
  /** When a request still not picked up fails (B7: 6 hours). */
  deadline_at: string;
  /** When the agent first received it. */
  delivered_at: string | null;
  ended_at: string | null;
  created_by: string;
}

/** Per machine, a number that grows whenever its extension goal state changes (0004). */
export interface ExtensionGoalStatesTable {
  machine_id: string;
  generation: number;
}

/** A signed extension package in the repository (B1, 0004). */
/** Agent packages (azcmagent .debs) to roll out to machines (0017). */
export interface AgentPackagesTable {
  /** The package's Debian version, as its control file states it. */
  version: string;
  /** Lower-case hex SHA-256 of the .deb. */
  sha256: string;
  size: number;
  /** base64 of the .deb. */
  content: string;
  /** The publisher's compact JWS over the package (tether-agent-package+jws); '' from before. */
  signature: string;
  published_at: string;
  published_by: string;
}

export interface ExtensionPackagesTable {
  /** Lower-cased `publisher/type/version`. */
  id: string;
  publisher: string;
  type: string;
  version: string;
  /** Lower-case hex SHA-256 of the zip. */
  sha256: string;
  size: number;
  /** Compact JWS by the publisher's key (see @tether/protocol/extension-package). */
  signature: string;
  /** base64 of the zip. */
  content: string;
  published_at: string;
  published_by: string;
}

/** One sample of a machine's CPU, memory and disk figures from its monitoring agent (0004). */
export interface MachineMetricsTable {
  machine_id: string;
  /** When the machine took the sample. */
  collected_at: string;
  received_at: string;
  /** JSON of the figures. */
  sample: string;
}

/** A guest configuration assignment on a machine, written directly or by policy (0007). */
export interface GuestConfigurationAssignmentsTable {
  /** Lower-cased ARM id (`<machine id>/providers/microsoft.guestconfiguration/guestconfigurationassignments/<name>`). */
  id: string;
  machine_id: string;
  subscription_id: string;
  /** Lower-cased. */
  resource_group: string;
  /** As the creator spelled it. */
  name: string;
  configuration_name: string;
  configuration_version: string;
  /** Who published the package in the repository. */
  publisher: string;
  content_uri: string;
  content_hash: string;
  assignment_type: 'Audit' | 'ApplyAndMonitor' | 'ApplyAndAutoCorrect' | 'DeployAndAutoCorrect';
  /** JSON `[{name, value}]`. */
  parameters: string;
  frequency_minutes: number;
  /** Who asked for it: `Azure policy` or what the writer gave. */
  context: string;
  /** JSON list of the lower-cased policy assignment ids that want it; `[]` when written directly. */
  policy_assignment_ids: string;
  compliance_status: 'Compliant' | 'NonCompliant' | 'Pending';
  last_checked: string | null;
  latest_report_id: string | null;
  provisioning_state: 'Succeeded' | 'Failed';
  created_at: string;
  updated_at: string;
}

/** One evaluation report of one assignment, kept for the history (0007). */
export interface GuestConfigurationReportsTable {
  /** Lower-cased id of the assignment. */
  assignment_id: string;
  /** The UUID the agent made. */
  report_id: string;
  machine_id: string;
  start_time: string;
  end_time: string;
  compliance_status: 'Compliant' | 'NonCompliant';
  operation_type: 'Initial' | 'Consistency';
  /** JSON `[{resourceId, complianceStatus, reasons[{phrase, code}]}]`. */
  resources: string;
  received_at: string;
}

/** Per machine: its guest configuration goal state generation and local state (0007). */
export interface GuestConfigurationMachinesTable {
  machine_id: string;
  generation: number;
  evaluation_request: number;
  /** Set while the agent reports guest configuration switched off locally. */
  disabled_reason: string | null;
  /** The machine's updated_at and the policy generation it was last matched against policy for. */
  reconciled_for: string | null;
  /** 1 while the agent's heartbeat says guest configuration is off or in monitor mode (0012). */
  switched_off: number;
}

/** The latest compliance of one machine for one policy assignment member (0007). */
export interface PolicyStatesTable {
  machine_id: string;
  /** Lower-cased. */
  policy_assignment_id: string;
  /** Lower-cased member reference id; '' for a single definition. */
  reference_id: string;
  subscription_id: string;
  resource_group: string;
  policy_assignment_name: string;
  policy_definition_id: string;
  policy_set_definition_id: string | null;
  /** The effect, lower-cased as Azure reports it. */
  definition_action: string;
  /** The guest configuration assignment whose report decides it; null for other policies. */
  gc_assignment_name: string | null;
  /** Compliant, NonCompliant or Unknown, as evaluated or reported. */
  compliance_state: 'Compliant' | 'NonCompliant' | 'Unknown';
  exempt: number;
  /** ISO-8601 UTC when the exemption stops counting; null for never. */
  exempt_until: string | null;
  timestamp: string;
  /**
   * What compliance shows: Exempt while an exemption counts, NonCompliant for a guest
   * configuration audit while the machine has guest configuration switched off, else
   * compliance_state. Written by restateMachines whenever one of those changes (0012).
   */
  state: PolicyState;
  /** On the machine's first row of each policy assignment: the rank of its worst state. */
  assignment_rank: number | null;
  /** On the machine's first row: the rank of its worst state over every policy assignment. */
  machine_rank: number | null;
}

export type PolicyState = 'Compliant' | 'NonCompliant' | 'Exempt' | 'Unknown';

/** A scope whose machines are to be matched against policy again (0013). */
export interface PolicyMatchRequestsTable {
  /** Lower-cased; '' or '/' for every machine. */
  scope: string;
  /** How many times it was asked for: a request made while matching runs keeps the row. */
  requests: number;
}

export interface PolicyDefinitionsTable {
  /** Lower-cased ARM id: `{scope}/providers/microsoft.authorization/policy[set]definitions/{name}`. */
  id: string;
  kind: 'definition' | 'set';
  /** Normalized scope the definition lives at (a subscription). */
  scope: string;
  /** As the creator spelled it. */
  name: string;
  /** JSON `properties` as served (policyType Custom). */
  properties: string;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
}

export interface PolicyAssignmentsTable {
  /** Lower-cased ARM id. */
  id: string;
  /** Normalized scope. */
  scope: string;
  name: string;
  /** Lower-cased id of the policy definition or policy set definition assigned. */
  policy_definition_id: string;
  location: string | null;
  /** JSON `properties` as served, without the read-only `scope`. */
  properties: string;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
}

export interface PolicyExemptionsTable {
  /** Lower-cased ARM id. */
  id: string;
  /** Normalized scope. */
  scope: string;
  name: string;
  /** Lower-cased id of the exempted assignment. */
  policy_assignment_id: string;
  /** ISO-8601 UTC, or null for no expiry. */
  expires_on: string | null;
  /** JSON `properties` as served. */
  properties: string;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
}

/**
 * Failed sign-ins in one window (0018), per throttle (clients, passwords, people, device codes)
 * and key (a client, an address, or the pair).
 */
export interface SignInFailuresTable {
  throttle: string;
  key: string;
  /** Milliseconds since the epoch (PostgreSQL gives a bigint back as a string). */
  window_start: number | string;
  failures: number;
}

/** A person's browser session at the sign-in pages (0011); the cookie is kept only as a hash. */
export interface SignInSessionsTable {
  /** base64url SHA-256 of the session cookie. */
  id_hash: string;
  user_id: string;
  /** The password credential signed in with: a new password ends the session. */
  credential_id: string;
  created_at: string;
  expires_at: string;
}

/** A one-time authorization code (0011), kept as a hash. */
export interface AuthorizationCodesTable {
  code_hash: string;
  client_id: string;
  user_id: string;
  credential_id: string;
  redirect_uri: string;
  /** PKCE S256 challenge the token request's code_verifier must answer. */
  code_challenge: string;
  scope: string;
  nonce: string | null;
  expires_at: string;
  used_at: string | null;
}

/** A refresh token (0011), kept as a hash; each use replaces it with the next of its family. */
export interface RefreshTokensTable {
  token_hash: string;
  /** Every token rotated from one sign-in shares this; a reused token revokes them all. */
  family_id: string;
  user_id: string;
  client_id: string;
  credential_id: string;
  scope: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  revoked_at: string | null;
}

/** A device code sign-in (0011) waiting for its person to enter the user code. */
export interface DeviceCodesTable {
  device_code_hash: string;
  user_code: string;
  client_id: string;
  scope: string;
  status: 'pending' | 'approved' | 'denied' | 'redeemed';
  user_id: string | null;
  credential_id: string | null;
  created_at: string;
  expires_at: string;
  last_polled_at: string | null;
}

export interface Database {
  settings: SettingsTable;
  subscriptions: SubscriptionsTable;
  resource_groups: ResourceGroupsTable;
  principals: PrincipalsTable;
  credentials: CredentialsTable;
  group_members: GroupMembersTable;
  signing_keys: SigningKeysTable;
  role_definitions: RoleDefinitionsTable;
  role_assignments: RoleAssignmentsTable;
  machines: MachinesTable;
  activity_log: ActivityLogTable;
  client_assertions: ClientAssertionsTable;
  machine_agents: MachineAgentsTable;
  liveness_log: LivenessLogTable;
  machine_local_changes: MachineLocalChangesTable;
  onboarding_tokens: OnboardingTokensTable;
  machine_extensions: MachineExtensionsTable;
  extension_operations: ExtensionOperationsTable;
  extension_goal_states: ExtensionGoalStatesTable;
  extension_packages: ExtensionPackagesTable;
  agent_packages: AgentPackagesTable;
  machine_metrics: MachineMetricsTable;
  guest_configuration_assignments: GuestConfigurationAssignmentsTable;
  guest_configuration_reports: GuestConfigurationReportsTable;
  guest_configuration_machines: GuestConfigurationMachinesTable;
  policy_states: PolicyStatesTable;
  policy_match_requests: PolicyMatchRequestsTable;
  policy_definitions: PolicyDefinitionsTable;
  policy_assignments: PolicyAssignmentsTable;
  policy_exemptions: PolicyExemptionsTable;
  sign_in_sessions: SignInSessionsTable;
  authorization_codes: AuthorizationCodesTable;
  refresh_tokens: RefreshTokensTable;
  device_codes: DeviceCodesTable;
  sign_in_failures: SignInFailuresTable;
}
