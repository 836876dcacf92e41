// The api-version each resource type is called with; one place, so an upgrade is one edit.
export const API_VERSIONS = {
  subscriptions: '2022-12-01',
  resourceGroups: '2021-04-01',
  machines: '2024-07-10',
  authorization: '2022-04-01',
  activityLog: '2015-04-01',
  access: '2026-11-01',
} as const;

/** What the token endpoint is asked for: an ARM token, as `az` asks for one. */
export const MANAGEMENT_SCOPE = 'https://management.azure.com/.default';
