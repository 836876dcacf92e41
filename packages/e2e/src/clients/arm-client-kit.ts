// What the ARM client programs share: their input (one JSON argument), an unmodified
// ClientSecretCredential pointed at Tether, SDK options for Tether's URL, and one JSON answer
// on stdout, so a test can drive a real SDK in a separate process the way a user would.
import { ClientSecretCredential } from '@azure/identity';

export interface ArmClientInput {
  /** `https://host:port` of the control plane. */
  endpoint: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  subscriptionId: string;
  action: string;
  [key: string]: unknown;
}

export const MANAGEMENT_SCOPE = 'https://management.azure.com/.default';

export function readInput(): ArmClientInput {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error('usage: node <client>.js <JSON input>');
  return JSON.parse(raw) as ArmClientInput;
}

export function credentialFor(input: ArmClientInput): ClientSecretCredential {
  return new ClientSecretCredential(input.tenantId, input.clientId, input.clientSecret, {
    authorityHost: input.endpoint,
    disableInstanceDiscovery: true,
  });
}

/** The SDKs build URLs from `$host` and send tokens for `credentialScopes`. */
export function sdkOptions(input: ArmClientInput): {
  endpoint: string;
  $host: string;
  credentialScopes: string[];
} {
  return { endpoint: input.endpoint, $host: input.endpoint, credentialScopes: [MANAGEMENT_SCOPE] };
}

export function text(input: ArmClientInput, key: string): string {
  const value = input[key];
  if (typeof value !== 'string') throw new Error(`input.${key} must be a string`);
  return value;
}

export async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of pages) all.push(item);
  return all;
}

/**
 * Prints `{ok: true, result}` or, for an error the service answered, `{ok: false, error:
 * {statusCode, code, message}}` (exit 0: the test judges); anything else exits 1.
 */
export function runClient(main: (input: ArmClientInput) => Promise<unknown>): void {
  main(readInput()).then(
    (result) => {
      process.stdout.write(`${JSON.stringify({ ok: true, result: result ?? null })}\n`);
    },
    (error: unknown) => {
      const e = error as { statusCode?: number; code?: string; message?: string };
      if (typeof e.statusCode === 'number') {
        const answer = {
          ok: false,
          error: { statusCode: e.statusCode, code: e.code, message: e.message },
        };
        process.stdout.write(`${JSON.stringify(answer)}\n`);
        return;
      }
      process.stderr.write(
        `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
