// What the guest configuration service keeps on disk so it goes on working while disconnected
// (up to 14 days) and after a restart: the last goal state and when the control plane was last
// reached, what it remembers of each assignment, and the downloaded packages. Root-only (0700
// folders, 0600 files); a package is verified again every time it is loaded, so a damaged or
// altered copy is refused, never trusted because it is local.
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { GuestConfigurationGoalState } from '@tether/protocol';
import { replaceFileAtomically } from '../../config/atomic-file.js';
import type { SignedPackage } from '../load-guest-configuration-package.js';
import type { AgentPaths } from '../../paths.js';
import { parseGcGoalState } from './parse-gc-goal-state.js';

export interface CachedGoalState {
  readonly goalState: GuestConfigurationGoalState;
  /** When the control plane last answered, ms since the epoch. */
  readonly lastContactAt: number;
}

/**
 * Per assignment name: evaluated before (Initial vs Consistency), the last trigger answered, and
 * for ApplyAndMonitor which version of the assignment was applied (it is applied once).
 */
export interface AssignmentMemory {
  readonly evaluated: boolean;
  readonly evaluationRequest: number;
  readonly appliedKey?: string;
}

export class GcCache {
  private readonly goalStateFile: string;
  private readonly memoryFile: string;

  constructor(
    private readonly paths: AgentPaths,
    private readonly log: (line: string) => void,
  ) {
    this.goalStateFile = join(paths.guestConfigStateDir, 'goal-state.json');
    this.memoryFile = join(paths.guestConfigStateDir, 'assignments.json');
  }

  readGoalState(): CachedGoalState | undefined {
    const json = this.readJson(this.goalStateFile);
    if (json === undefined) return undefined;
    try {
      const { goalState, lastContactAt } = json as { goalState?: unknown; lastContactAt?: unknown };
      if (typeof lastContactAt !== 'number') throw new Error('lastContactAt is missing');
      return { goalState: parseGcGoalState(goalState), lastContactAt };
    } catch (error) {
      this.log(
        `the cached goal state ${this.goalStateFile} is ignored: ${(error as Error).message}`,
      );
      return undefined;
    }
  }

  writeGoalState(cached: CachedGoalState): void {
    this.write(this.goalStateFile, JSON.stringify(cached));
  }

  readMemory(): Map<string, AssignmentMemory> {
    const json = this.readJson(this.memoryFile);
    const memory = new Map<string, AssignmentMemory>();
    if (typeof json !== 'object' || json === null) return memory;
    for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
      const { evaluated, evaluationRequest, appliedKey } = (value ??
        {}) as Partial<AssignmentMemory>;
      if (typeof evaluated === 'boolean' && typeof evaluationRequest === 'number') {
        memory.set(name, {
          evaluated,
          evaluationRequest,
          ...(typeof appliedKey === 'string' ? { appliedKey } : {}),
        });
      }
    }
    return memory;
  }

  writeMemory(memory: ReadonlyMap<string, AssignmentMemory>): void {
    this.write(this.memoryFile, JSON.stringify(Object.fromEntries(memory)));
  }

  /** The package stored for this content hash, or undefined. */
  readPackage(contentHash: string): SignedPackage | undefined {
    const json = this.readJson(this.packageFile(contentHash));
    const { zip, signature } = (json ?? {}) as { zip?: unknown; signature?: unknown };
    if (typeof zip !== 'string' || typeof signature !== 'string') return undefined;
    return { zip: Buffer.from(zip, 'base64'), signature };
  }

  writePackage(contentHash: string, pkg: SignedPackage): void {
    const zip = Buffer.from(pkg.zip.buffer, pkg.zip.byteOffset, pkg.zip.byteLength);
    this.write(
      this.packageFile(contentHash),
      JSON.stringify({ signature: pkg.signature, zip: zip.toString('base64') }),
    );
  }

  dropPackage(contentHash: string): void {
    rmSync(this.packageFile(contentHash), { force: true });
  }

  /** Removes every stored package whose hash is not in `keep`. */
  prunePackages(keep: ReadonlySet<string>): void {
    let names: string[];
    try {
      names = readdirSync(this.paths.guestConfigPackagesDir);
    } catch {
      return;
    }
    for (const name of names) {
      const hash = name.replace(/\.json$/, '');
      if (!keep.has(hash)) rmSync(join(this.paths.guestConfigPackagesDir, name), { force: true });
    }
  }

  private packageFile(contentHash: string): string {
    // Content hashes come from a validated goal state (64 hex digits): safe as a file name.
    if (!/^[0-9a-f]{64}$/.test(contentHash)) throw new Error(`bad content hash ${contentHash}`);
    return join(this.paths.guestConfigPackagesDir, `${contentHash}.json`);
  }

  private readJson(file: string): unknown {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      this.log(`${file} is not JSON and is ignored`);
      return undefined;
    }
  }

  private write(file: string, text: string): void {
    ensureRootOnlyFolder(dirname(file));
    replaceFileAtomically(file, text, {
      mode: 0o600,
      ownerUid: process.geteuid?.() ?? 0,
      ownerGid: process.getegid?.() ?? 0,
    });
  }
}

/** Creates `dir` (and its parents) and makes it 0700, whatever mode it had. */
export function ensureRootOnlyFolder(dir: string): void {
  mkdirSync(dirname(dir), { recursive: true, mode: 0o755 });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}
