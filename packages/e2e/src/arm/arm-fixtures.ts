// What the ARM end-to-end tests set up through the real API before an SDK client runs:
// resource groups, service principals with a secret, and the input every ARM client takes.
import type { ControlPlane } from '../harness/index.js';

export interface ClientAnswer<T> {
  ok: boolean;
  result?: T;
  error?: { statusCode: number; code?: string; message?: string };
}

export interface Principal {
  id: string;
  appId: string;
  secret: string;
}

export async function createResourceGroup(plane: ControlPlane, name: string): Promise<void> {
  const answer = await plane.admin.call(
    'PUT',
    `/subscriptions/${plane.subscriptionId}/resourcegroups/${name}?api-version=2021-04-01`,
    { body: { location: 'westeurope' } },
  );
  if (answer.status !== 201)
    throw new Error(`resource group ${name}: ${JSON.stringify(answer.body)}`);
}

export async function createPrincipalWithSecret(
  plane: ControlPlane,
  displayName: string,
): Promise<Principal> {
  const created = await plane.admin.call('POST', '/v1.0/servicePrincipals', {
    body: { displayName },
  });
  if (created.status !== 201) throw new Error(`service principal: ${JSON.stringify(created.body)}`);
  const id = String(created.body['id']);
  const added = await plane.admin.call('POST', `/v1.0/servicePrincipals/${id}/addPassword`, {
    body: {},
  });
  if (added.status !== 200) throw new Error(`addPassword: ${JSON.stringify(added.body)}`);
  return { id, appId: String(created.body['appId']), secret: String(added.body['secretText']) };
}

/** The JSON argument of an arm-* client, signing in as `who` (the bootstrap Owner by default). */
export function armInput(
  plane: ControlPlane,
  action: string,
  extra: Record<string, unknown> = {},
  who?: Principal,
): string {
  return JSON.stringify({
    endpoint: plane.url,
    tenantId: plane.tenantId,
    clientId: who?.appId ?? plane.appId,
    clientSecret: who?.secret ?? plane.password,
    subscriptionId: plane.subscriptionId,
    action,
    ...extra,
  });
}
