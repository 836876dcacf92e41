// A fake server's file system under a temporary root, for guest configuration tests: files
// written with a mode and owned by "root" — whoever runs the test, named root in etc/passwd
// and etc/group when that is not uid 0, so ownership checks pass without privileges.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface FakeServer {
  readonly root: string;
  /** Writes `text` at the server path `path` (`/etc/passwd`) with `mode`. */
  write(path: string, text: string, mode?: number): void;
  link(path: string, target: string): void;
  chmod(path: string, mode: number): void;
  host(path: string): string;
  remove(): void;
}

export function makeFakeServer(): FakeServer {
  const root = mkdtempSync(join(tmpdir(), 'gc-server-'));
  const host = (path: string): string => join(root, path);
  return {
    root,
    host,
    write(path, text, mode = 0o644) {
      mkdirSync(dirname(host(path)), { recursive: true });
      writeFileSync(host(path), text);
      chmodSync(host(path), mode);
    },
    link(path, target) {
      mkdirSync(dirname(host(path)), { recursive: true });
      symlinkSync(target, host(path));
    },
    chmod(path, mode) {
      chmodSync(host(path), mode);
    },
    remove() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** etc/passwd lines naming the test's own uid root (when not 0), then `extra`. */
export function passwdFor(extra: readonly string[] = []): string {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const self = uid === 0 ? [] : [`root:x:${uid}:${gid}:test runner as root:/root:/bin/sh`];
  return [
    ...self,
    'root:x:0:0:root:/root:/bin/bash',
    'daemon:x:1:1::/usr/sbin:/usr/sbin/nologin',
    ...extra,
    '',
  ].join('\n');
}

export function groupFor(): string {
  const gid = process.getgid?.() ?? 0;
  return [...(gid === 0 ? [] : [`root:x:${gid}:`]), 'root:x:0:', 'shadow:x:42:', ''].join('\n');
}
