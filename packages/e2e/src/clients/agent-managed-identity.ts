// An application on a connected server: the unmodified ManagedIdentityCredential (which finds
// HIMDS through IDENTITY_ENDPOINT/IMDS_ENDPOINT) and HybridComputeManagementClient listing the
// subscription's machines. Input: {endpoint, subscriptionId}. Prints one JSON answer, exit 0.
import { HybridComputeManagementClient } from '@azure/arm-hybridcompute';
import { ManagedIdentityCredential } from '@azure/identity';

interface Input {
  endpoint: string;
  subscriptionId: string;
}

type Answer =
  | { ok: true; machines: string[] }
  | {
      ok: false;
      stage: 'token' | 'list';
      error: { name?: string; statusCode?: number; code?: string; message?: string };
    };

const SCOPE = 'https://management.azure.com/.default';

function describe(error: unknown): {
  name?: string;
  statusCode?: number;
  code?: string;
  message?: string;
} {
  const e = error as { name?: string; statusCode?: number; code?: string; message?: string };
  return { name: e.name, statusCode: e.statusCode, code: e.code, message: e.message };
}

async function main(input: Input): Promise<Answer> {
  const credential = new ManagedIdentityCredential();
  // The token first, on its own, so the test can tell a refused challenge from a refused listing.
  try {
    await credential.getToken(SCOPE);
  } catch (error) {
    return { ok: false, stage: 'token', error: describe(error) };
  }
  const client = new HybridComputeManagementClient(credential, input.subscriptionId, {
    endpoint: input.endpoint,
    $host: input.endpoint,
    credentialScopes: [SCOPE],
  });
  try {
    const machines: string[] = [];
    for await (const machine of client.machines.listBySubscription())
      machines.push(machine.name ?? '');
    return { ok: true, machines };
  } catch (error) {
    return { ok: false, stage: 'list', error: describe(error) };
  }
}

const raw = process.argv[2];
if (raw === undefined) {
  process.stderr.write('usage: node agent-managed-identity.js <JSON input>\n');
  process.exitCode = 2;
} else {
  main(JSON.parse(raw) as Input).then(
    (answer) => process.stdout.write(`${JSON.stringify(answer)}\n`),
    (error: unknown) => {
      process.stderr.write(
        `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
