// What an onboarding script does: a token from the unmodified ClientSecretCredential, then a
// plain HTTPS PUT of each machine resource. Input `machines: [{resourceGroup, name, body}]`;
// answers the status and body of each PUT.
import { request } from 'node:https';
import {
  credentialFor,
  MANAGEMENT_SCOPE,
  runClient,
  type ArmClientInput,
} from './arm-client-kit.js';

interface MachinePut {
  resourceGroup: string;
  name: string;
  body: unknown;
}

function put(
  url: string,
  token: string,
  body: unknown,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(
      url,
      {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            body: text.length > 0 ? (JSON.parse(text) as unknown) : null,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function main(input: ArmClientInput): Promise<unknown> {
  const token = await credentialFor(input).getToken(MANAGEMENT_SCOPE);
  const machines = input['machines'] as MachinePut[];
  const answers = [];
  for (const machine of machines) {
    const url = `${input.endpoint}/subscriptions/${input.subscriptionId}/resourceGroups/${machine.resourceGroup}/providers/Microsoft.HybridCompute/machines/${machine.name}?api-version=2024-07-10`;
    answers.push(await put(url, token.token, machine.body));
  }
  return answers;
}

runClient(main);
