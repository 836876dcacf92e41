// A signed-in connection to the control plane for one command: the saved profile (or the
// AZURE_* / TETHER_ENDPOINT environment when there is none), its CA, token cache and client.
import { ApiClient } from './api-client.js';
import { readPemCertificates } from './pem-certificates.js';
import type { CliDeps } from './cli-deps.js';
import { InvalidArgumentError } from 'commander';
import { CliError, usageError } from './cli-error.js';
import { parseEndpoint } from './parsers.js';
import { ProfileStore, type CachedToken, type Profile } from './profile-store.js';
import { TokenProvider, type TokenCache } from './token-provider.js';

export interface Session {
  client: ApiClient;
  endpoint: string;
  tenantId: string;
  clientId: string;
  /** The PEM CA certificates this session trusts (TETHER_CA_CERT or the profile's), if any. */
  ca: string | undefined;
  /** The --subscription flag, else the profile's default; a usage error when neither is set. */
  subscriptionId: () => string;
  close: () => void;
}

export const CREDENTIAL_VARIABLES = [
  'AZURE_CLIENT_ID',
  'AZURE_CLIENT_SECRET',
  'AZURE_TENANT_ID',
  'TETHER_ENDPOINT',
] as const;

export async function openSession(deps: CliDeps, subscriptionFlag?: string): Promise<Session> {
  const store = ProfileStore.locate(deps.env, deps.homeDir);
  const saved = await store.load();
  if (saved === undefined && (deps.env['TETHER_PROFILE'] ?? '') !== '') {
    // A profile asked for by name is that profile or nothing, never the environment's.
    throw new CliError(
      'ERR_NOT_LOGGED_IN',
      `there is no saved profile '${store.name}' (${store.path}): sign in with 'tether login --profile ${store.name} --service-principal …', or see 'tether account list'.`,
    );
  }
  const profile = saved ?? profileFromEnvironment(deps.env, store.path);
  const caPath = deps.env['TETHER_CA_CERT'];
  const ca =
    caPath !== undefined && caPath !== ''
      ? await readPemCertificates(caPath, 'TETHER_CA_CERT')
      : profile.caCert;
  const transport = deps.createTransport(ca === undefined ? {} : { ca });
  let token = profile.token;
  const cache: TokenCache = {
    load: () => token,
    save: async (fresh: CachedToken) => {
      const { refreshToken, ...access } = fresh;
      token = access;
      // Only a profile the user saved is rewritten; environment credentials stay in memory. A
      // person's rotated refresh token must be kept: the old one is now spent.
      if (saved !== undefined) {
        await store.save({
          ...saved,
          token: access,
          ...(refreshToken === undefined ? {} : { refreshToken }),
        });
      }
    },
  };
  const tokens = new TokenProvider(profile, transport, deps.clock, cache);
  const client = new ApiClient({
    endpoint: profile.endpoint,
    transport,
    tokens,
    clock: deps.clock,
    sleep: deps.sleep,
  });
  return {
    client,
    endpoint: profile.endpoint,
    tenantId: profile.tenantId,
    clientId: profile.clientId,
    ca,
    subscriptionId: () => {
      const subscription = subscriptionFlag ?? profile.subscriptionId;
      if (subscription === undefined) {
        throw usageError(
          "no subscription: pass --subscription ID, or set a default with 'tether account set --subscription ID'.",
          '--subscription',
        );
      }
      return subscription;
    },
    close: () => transport.close(),
  };
}

function profileFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  profilePath: string,
): Profile {
  const present = CREDENTIAL_VARIABLES.filter((name) => (env[name] ?? '') !== '');
  if (present.length === 0) {
    throw new CliError(
      'ERR_NOT_LOGGED_IN',
      `not logged in (no ${profilePath}): run 'tether login --service-principal -u APPID -p SECRET --tenant TENANT --endpoint URL', or set ${CREDENTIAL_VARIABLES.join(', ')}.`,
    );
  }
  const missing = CREDENTIAL_VARIABLES.filter((name) => !present.includes(name));
  if (missing.length > 0) {
    throw new CliError(
      'ERR_NOT_LOGGED_IN',
      `not logged in: ${present.join(', ')} ${present.length === 1 ? 'is' : 'are'} set but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not; set all four, or run 'tether login'.`,
    );
  }
  const subscriptionId = env['AZURE_SUBSCRIPTION_ID'];
  let endpoint: string;
  try {
    endpoint = parseEndpoint(env['TETHER_ENDPOINT'] ?? '');
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    throw usageError(`TETHER_ENDPOINT '${env['TETHER_ENDPOINT']}' is invalid. ${error.message}`);
  }
  return {
    endpoint,
    tenantId: env['AZURE_TENANT_ID'] ?? '',
    clientId: env['AZURE_CLIENT_ID'] ?? '',
    clientSecret: env['AZURE_CLIENT_SECRET'] ?? '',
    ...(subscriptionId === undefined || subscriptionId === '' ? {} : { subscriptionId }),
  };
}
