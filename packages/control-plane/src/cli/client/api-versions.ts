// The api-version each resource type is called with; one place, so an upgrade is one edit.
export const API_VERSIONS = {
  subscriptions: '2022-12-01',
  resourceGroups: '2021-04-01',
  machines: '2024-07-10',
  authorization: '2022-04-01',
  activityLog: '2015-04-01',
  access: '2026-11-01',
  rootAccess: '2026-11-01',
  policy: '2024-05-01',
  policyExemptions: '2022-07-01-preview',
  policyInsights: '2024-10-01',
  guestConfiguration: '2024-04-05',
  extensionRepository: '2024-07-10',
} as const;

/** What the token endpoint is asked for: an ARM token, as `az` asks for one. */
export const MANAGEMENT_SCOPE = 'https://management.azure.com/.default';
