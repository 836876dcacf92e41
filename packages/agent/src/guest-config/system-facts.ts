// The engine's read-only edge: reads what rules ask about (files, their owners and modes, config
// files with sshd's Include, dpkg's status, /proc/sys, systemd unit links) under the agent's
// root folder, each file once per evaluation.
import { readdirSync, readFileSync, statSync, lstatSync, readlinkSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { ConfigFileFormat } from '@tether/protocol';
import { parseConfigLine } from './config-file-value.js';
import { installedAmong } from './package-rule.js';
import { resolveUnderRoot, type RootedPath } from './rooted-path.js';
import type { ConfigFacts, ConfigLine, FileFacts, SystemdUnitFacts } from './rule-facts.js';

const MAX_FILE_BYTES = 16 * 1024 * 1024;
const MAX_INCLUDE_DEPTH = 16;
/** Where systemd looks for units, most specific first (as its unit search path). */
const UNIT_DIRS = [
  '/etc/systemd/system',
  '/run/systemd/system',
  '/lib/systemd/system',
  '/usr/lib/systemd/system',
];

export class SystemFacts {
  readonly #root: string;
  readonly #texts = new Map<string, string | undefined>();
  readonly #dirs = new Map<string, string[]>();
  #dpkgStatus: string | undefined | null = null;
  #users: Map<number, string> | undefined;
  #groups: Map<number, string> | undefined;

  constructor(root: string) {
    this.#root = root;
  }

  /** The text of the file at a server path, or undefined when it is missing or unreadable. */
  text(path: string, encoding: 'utf8' | 'latin1' = 'utf8'): string | undefined {
    const { logical, host } = this.#resolve(path);
    if (!this.#texts.has(logical)) {
      let text: string | undefined;
      try {
        const stats = statSync(host);
        text =
          stats.isFile() && stats.size <= MAX_FILE_BYTES
            ? readFileSync(host).toString(encoding)
            : undefined;
      } catch {
        text = undefined;
      }
      this.#texts.set(logical, text);
    }
    return this.#texts.get(logical);
  }

  file(path: string): FileFacts {
    const stats = statSync(this.#resolve(path).host, { throwIfNoEntry: false });
    if (stats === undefined) return { exists: false };
    return {
      exists: true,
      type: stats.isFile() ? 'file' : stats.isDirectory() ? 'directory' : 'other',
      uid: stats.uid,
      gid: stats.gid,
      mode: stats.mode & 0o7777,
      user: this.#names('/etc/passwd', 'users').get(stats.uid),
      group: this.#names('/etc/group', 'groups').get(stats.gid),
      links: stats.nlink,
    };
  }

  /** Account names to ids from etc/passwd and etc/group (the first entry for a name wins). */
  accountIds(): { users: Map<string, number>; groups: Map<string, number> } {
    return { users: this.#ids('/etc/passwd'), groups: this.#ids('/etc/group') };
  }

  /** The lines a program reads for `path`; for sshd, each Include spliced in where it stands. */
  config(path: string, format: ConfigFileFormat): ConfigFacts {
    const text = this.text(path);
    if (text === undefined) return { exists: false };
    return { exists: true, lines: this.#lines(path, text, format, 0) };
  }

  /** Live value under /proc/sys: the real one only when the root is `/`. */
  kernelParameter(name: string): string | undefined {
    return this.text(`/proc/sys/${name.replaceAll('.', '/')}`);
  }

  /** Which of `names` are installed; undefined when dpkg's database cannot be read. */
  installedPackages(names: readonly string[]): ReadonlySet<string> | undefined {
    if (this.#dpkgStatus === null) {
      // Names and states are ASCII; latin1 decodes the large file several times faster.
      this.#dpkgStatus = this.text('/var/lib/dpkg/status', 'latin1');
    }
    return this.#dpkgStatus === undefined ? undefined : installedAmong(this.#dpkgStatus, names);
  }

  systemdUnit(unit: string): SystemdUnitFacts {
    const unitFiles = UNIT_DIRS.map((dir) => `${dir}/${unit}`).filter(
      (file) => lstatSync(this.#resolve(file).host, { throwIfNoEntry: false }) !== undefined,
    );
    const override = join(this.#root, 'etc/systemd/system', unit);
    let masked = false;
    try {
      masked = lstatSync(override).isSymbolicLink() && readlinkSync(override) === '/dev/null';
    } catch {
      masked = false;
    }
    const wantedBy = UNIT_DIRS.flatMap((dir) =>
      this.#list(dir)
        .filter((entry) => /\.(?:wants|requires)$/.test(entry))
        .filter((entry) => this.#list(`${dir}/${entry}`).includes(unit))
        .map((entry) => `${dir}/${entry}`),
    );
    return { unitFiles, masked, wantedBy };
  }

  #lines(path: string, text: string, format: ConfigFileFormat, depth: number): ConfigLine[] {
    const lines: ConfigLine[] = [];
    text.split('\n').forEach((line, index) => {
      const parsed = format === 'sshd' ? parseConfigLine(format, line) : undefined;
      if (
        parsed === undefined ||
        parsed.key.toLowerCase() !== 'include' ||
        depth >= MAX_INCLUDE_DEPTH
      ) {
        lines.push({ file: path, line: index + 1, text: line });
        return;
      }
      for (const pattern of parsed.value.split(/\s+/)) {
        // sshd takes relative Include paths from /etc/ssh.
        for (const file of this.#glob(pattern.startsWith('/') ? pattern : `/etc/ssh/${pattern}`)) {
          const included = this.text(file);
          if (included !== undefined) lines.push(...this.#lines(file, included, format, depth + 1));
        }
      }
    });
    return lines;
  }

  /** Wildcards in the last component only (`sshd_config.d/*.conf`), sorted as glob(3) does. */
  #glob(pattern: string): string[] {
    const dir = dirname(pattern);
    const name = posix.basename(pattern);
    if (!/[*?[]/.test(name)) return [pattern];
    const source = name
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replaceAll('*', '.*')
      .replaceAll('?', '.');
    const re = new RegExp(`^${source}$`);
    return this.#list(dir)
      .filter((entry) => re.test(entry) && !entry.startsWith('.'))
      .sort()
      .map((entry) => `${dir}/${entry}`);
  }

  #list(dir: string): string[] {
    let entries = this.#dirs.get(dir);
    if (entries === undefined) {
      try {
        entries = readdirSync(this.#resolve(dir).host);
      } catch {
        entries = [];
      }
      this.#dirs.set(dir, entries);
    }
    return entries;
  }

  #names(file: string, which: 'users' | 'groups'): Map<number, string> {
    const cached = which === 'users' ? this.#users : this.#groups;
    if (cached !== undefined) return cached;
    const names = new Map<number, string>();
    for (const line of (this.text(file) ?? '').split('\n')) {
      const [name, , id] = line.split(':');
      if (name !== undefined && id !== undefined && /^\d+$/.test(id) && !names.has(Number(id))) {
        names.set(Number(id), name);
      }
    }
    if (which === 'users') this.#users = names;
    else this.#groups = names;
    return names;
  }

  #ids(file: string): Map<string, number> {
    const ids = new Map<string, number>();
    for (const line of (this.text(file) ?? '').split('\n')) {
      const [name, , id] = line.split(':');
      if (name !== undefined && id !== undefined && /^\d+$/.test(id) && !ids.has(name)) {
        ids.set(name, Number(id));
      }
    }
    return ids;
  }

  #resolve(path: string): RootedPath {
    try {
      return resolveUnderRoot(this.#root, path);
    } catch {
      // A link loop reads as a missing file: nothing can be created under /proc.
      return { logical: path, host: join(this.#root, 'proc/.link-loop', path) };
    }
  }
}
