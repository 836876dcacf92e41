// The login profiles, kept as `az` keeps one: per named profile a JSON file holding the service
// principal's secret and a cached token, written atomically as 0600 inside a 0700 directory that
// nobody else reads. `default` is profile.json; another name N is profile.N.json.
import { readFileSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError, usageError } from './cli-error.js';
import { isRecord } from './api-error.js';

export interface CachedToken {
  accessToken: string;
  /** Epoch milliseconds. */
  expiresOn: number;
  /** A person's next refresh token, when getting this token rotated it. */
  refreshToken?: string;
}

export interface Profile {
  /** https URL of the control plane, without a trailing slash. */
  endpoint: string;
  tenantId: string;
  /** The service principal's appId. */
  clientId: string;
  /** The service principal's secret; '' for a person, who has a refresh token instead. */
  clientSecret: string;
  /** A person's refresh token (device code sign-in); rotated on each use. */
  refreshToken?: string;
  /** A person's sign-in name, for display. */
  userName?: string;
  subscriptionId?: string;
  /** PEM of the CA that issued the control plane's certificate. */
  caCert?: string;
  token?: CachedToken;
}

export const DEFAULT_PROFILE = 'default';
/** Names `tether account use` saved as the one to use when none is named. */
const CURRENT_FILE = 'current-profile';
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const PROFILE_FILE = /^profile(?:\.([A-Za-z0-9][A-Za-z0-9_-]{0,63}))?\.json$/;
const checksPermissions = process.platform !== 'win32';

/** The name unchanged when it can name a profile; otherwise a usage error naming `source`. */
export function checkProfileName(name: string, source: string): string {
  if (PROFILE_NAME.test(name)) return name;
  throw usageError(
    `${source} '${name}' is not a profile name: use 1 to 64 letters, digits, '-' or '_', starting with a letter or digit.`,
    source,
  );
}

export class ProfileStore {
  constructor(
    readonly directory: string,
    readonly name: string = DEFAULT_PROFILE,
  ) {}

  /**
   * `TETHER_CONFIG_DIR`, else `~/.tether`; the profile named by `TETHER_PROFILE` (which
   * `--profile` sets), else the one `tether account use` chose, else `default`.
   */
  static locate(env: Readonly<Record<string, string | undefined>>, homeDir: string): ProfileStore {
    const configured = env['TETHER_CONFIG_DIR'];
    const directory =
      configured !== undefined && configured !== '' ? configured : join(homeDir, '.tether');
    const named = env['TETHER_PROFILE'];
    const name =
      named !== undefined && named !== ''
        ? checkProfileName(named, 'TETHER_PROFILE')
        : (readCurrentProfile(directory) ?? DEFAULT_PROFILE);
    return new ProfileStore(directory, name);
  }

  get path(): string {
    return join(
      this.directory,
      this.name === DEFAULT_PROFILE ? 'profile.json' : `profile.${this.name}.json`,
    );
  }

  /** The same directory's profile called `name`. */
  named(name: string): ProfileStore {
    return new ProfileStore(this.directory, name);
  }

  /** The names of the saved profiles, sorted. */
  async names(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new CliError(
        'ERR_PROFILE',
        `cannot read ${this.directory}: ${(error as Error).message}.`,
      );
    }
    return entries
      .map((entry) => PROFILE_FILE.exec(entry))
      .filter((match) => match !== null)
      .map((match) => match[1] ?? DEFAULT_PROFILE)
      .sort();
  }

  /** Makes this profile the one used when no --profile or TETHER_PROFILE names another. */
  async makeCurrent(): Promise<void> {
    await this.ensureDirectory();
    try {
      await writeFile(join(this.directory, CURRENT_FILE), `${this.name}\n`, { mode: 0o600 });
    } catch (error) {
      throw new CliError(
        'ERR_PROFILE',
        `cannot write ${join(this.directory, CURRENT_FILE)}: ${(error as Error).message}.`,
        { cause: error },
      );
    }
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
    const temporary = `${this.path}.${randomBytes(6).toString('hex')}.tmp`;
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

/** Read synchronously: it decides which file every command opens, before anything else runs. */
function readCurrentProfile(directory: string): string | undefined {
  const path = join(directory, CURRENT_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError('ERR_PROFILE', `cannot read ${path}: ${(error as Error).message}.`);
  }
  const name = text.trim();
  if (PROFILE_NAME.test(name)) return name;
  throw new CliError(
    'ERR_PROFILE',
    `${path} does not name a profile; choose one with 'tether account use NAME'.`,
  );
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
  const person = typeof value['refreshToken'] === 'string' && value['refreshToken'] !== '';
  for (const key of ['endpoint', 'tenantId', 'clientId', 'clientSecret'] as const) {
    if (key === 'clientSecret' && person) continue;
    if (typeof value[key] !== 'string' || value[key] === '') throw invalid(`no ${key}`);
  }
  for (const key of ['subscriptionId', 'caCert', 'userName'] as const) {
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
    clientSecret: typeof value['clientSecret'] === 'string' ? value['clientSecret'] : '',
    ...(person ? { refreshToken: value['refreshToken'] as string } : {}),
    ...(typeof value['userName'] === 'string' ? { userName: value['userName'] } : {}),
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
