// The login profile, kept as `az` keeps one: a JSON file holding the service principal's secret
// and a cached token, written atomically as 0600 inside a 0700 directory that nobody else reads.
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError } from './cli-error.js';
import { isRecord } from './api-error.js';

export interface CachedToken {
  accessToken: string;
  /** Epoch milliseconds. */
  expiresOn: number;
}

export interface Profile {
  /** https URL of the control plane, without a trailing slash. */
  endpoint: string;
  tenantId: string;
  /** The service principal's appId. */
  clientId: string;
  clientSecret: string;
  subscriptionId?: string;
  /** PEM of the CA that issued the control plane's certificate. */
  caCert?: string;
  token?: CachedToken;
}

const PROFILE_FILE = 'profile.json';
const checksPermissions = process.platform !== 'win32';

export class ProfileStore {
  constructor(readonly directory: string) {}

  /** `TETHER_CONFIG_DIR`, else `~/.tether`. */
  static locate(env: Readonly<Record<string, string | undefined>>, homeDir: string): ProfileStore {
    const configured = env['TETHER_CONFIG_DIR'];
    return new ProfileStore(
      configured !== undefined && configured !== '' ? configured : join(homeDir, '.tether'),
    );
  }

  get path(): string {
    return join(this.directory, PROFILE_FILE);
  }

  /** The saved profile, or undefined when nobody has logged in. */
  async load(): Promise<Profile | undefined> {
    let text: string;
    try {
      if (checksPermissions) {
        const mode = (await stat(this.path)).mode & 0o777;
        if ((mode & 0o077) !== 0) {
          throw new CliError(
            'ERR_PROFILE',
            `${this.path} holds a secret but other users may read it (mode ${mode.toString(8).padStart(4, '0')}); run 'chmod 600 ${this.path}', or log in again.`,
          );
        }
      }
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      if (error instanceof CliError) throw error;
      throw new CliError('ERR_PROFILE', `cannot read ${this.path}: ${(error as Error).message}.`, {
        cause: error,
      });
    }
    return parseProfile(text, this.path);
  }

  async save(profile: Profile): Promise<void> {
    await this.ensureDirectory();
    const { randomBytes } = await import('node:crypto');
    const temporary = join(this.directory, `.${PROFILE_FILE}.${randomBytes(6).toString('hex')}`);
    try {
      await writeFile(temporary, `${JSON.stringify(profile, null, 2)}\n`, {
        mode: 0o600,
        flag: 'wx',
      });
      await rename(temporary, this.path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw new CliError('ERR_PROFILE', `cannot write ${this.path}: ${(error as Error).message}.`, {
        cause: error,
      });
    }
  }

  /** Deletes the profile; returns whether there was one. */
  async remove(): Promise<boolean> {
    try {
      await rm(this.path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new CliError('ERR_PROFILE', `cannot delete ${this.path}: ${(error as Error).message}.`);
    }
  }

  private async ensureDirectory(): Promise<void> {
    let created: string | undefined;
    try {
      created = await mkdir(this.directory, { recursive: true, mode: 0o700 });
      if (created !== undefined && checksPermissions) await chmod(this.directory, 0o700);
    } catch (error) {
      throw new CliError(
        'ERR_PROFILE',
        `cannot create ${this.directory}: ${(error as Error).message}.`,
        { cause: error },
      );
    }
    if (created !== undefined || !checksPermissions) return;
    const mode = (await stat(this.directory)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new CliError(
        'ERR_PROFILE',
        `${this.directory} would hold a secret but other users may open it (mode ${mode.toString(8).padStart(4, '0')}); run 'chmod 700 ${this.directory}' or set TETHER_CONFIG_DIR to a private directory.`,
      );
    }
  }
}

function parseProfile(text: string, path: string): Profile {
  const invalid = (why: string): CliError =>
    new CliError(
      'ERR_PROFILE',
      `${path} is not a valid profile (${why}); log in again with 'tether login'.`,
    );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('not JSON');
  }
  if (!isRecord(value)) throw invalid('not a JSON object');
  for (const key of ['endpoint', 'tenantId', 'clientId', 'clientSecret'] as const) {
    if (typeof value[key] !== 'string' || value[key] === '') throw invalid(`no ${key}`);
  }
  for (const key of ['subscriptionId', 'caCert'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'string')
      throw invalid(`${key} is not a string`);
  }
  const token = value['token'];
  const validToken =
    isRecord(token) &&
    typeof token['accessToken'] === 'string' &&
    typeof token['expiresOn'] === 'number';
  return {
    endpoint: value['endpoint'] as string,
    tenantId: value['tenantId'] as string,
    clientId: value['clientId'] as string,
    clientSecret: value['clientSecret'] as string,
    ...(typeof value['subscriptionId'] === 'string'
      ? { subscriptionId: value['subscriptionId'] }
      : {}),
    ...(typeof value['caCert'] === 'string' ? { caCert: value['caCert'] } : {}),
    ...(validToken
      ? {
          token: {
            accessToken: token['accessToken'] as string,
            expiresOn: token['expiresOn'] as number,
          },
        }
      : {}),
  };
}
