// Role assignments indexed for the questions asked of them: by name (replace, remove), by
// scope (who has access here) and by principal, the last also packed into an Int32Array of
// (scope id, role slot) pairs so that a permission check scans contiguous memory.
import { idKey } from './principal-id.js';
import type { RoleAssignment } from './types.js';

export interface StoredAssignment {
  readonly assignment: Readonly<RoleAssignment>;
  readonly principalKey: string;
  readonly roleSlot: number;
  readonly scopeId: number;
}

const NONE: readonly StoredAssignment[] = Object.freeze([]);

export class AssignmentIndex {
  private readonly byName = new Map<string, StoredAssignment>();
  private readonly byScope = new Map<string, StoredAssignment[]>();
  private readonly byPrincipal = new Map<string, StoredAssignment[]>();
  /** Packed pairs per principal, rebuilt lazily after a change to that principal. */
  private readonly packed = new Map<string, Int32Array>();
  /** Ids for scopes that hold assignments; an id is never reused once its scope empties. */
  private readonly scopeIds = new Map<string, number>();
  private nextScopeId = 0;
  /**
   * Bumped when a scope gains its first assignment. Not when one loses its last: ids are never
   * reused, so a memoized id of an emptied scope can only match nothing.
   */
  private scopeGeneration = 0;

  /** `assignment` must be validated, its scope normalized; replaces one of the same name. */
  put(assignment: Readonly<RoleAssignment>, roleSlot: number): void {
    this.remove(assignment.name);
    let scopeId = this.scopeIds.get(assignment.scope);
    if (scopeId === undefined) {
      this.scopeIds.set(assignment.scope, (scopeId = this.nextScopeId++));
      this.scopeGeneration++;
    }
    const stored = { assignment, principalKey: idKey(assignment.principalId), roleSlot, scopeId };
    this.byName.set(idKey(assignment.name), stored);
    append(this.byScope, assignment.scope, stored);
    append(this.byPrincipal, stored.principalKey, stored);
    this.packed.delete(stored.principalKey);
  }

  remove(name: string): void {
    const stored = this.byName.get(idKey(name));
    if (stored === undefined) return;
    this.byName.delete(idKey(name));
    if (detach(this.byScope, stored.assignment.scope, stored) === 0) {
      this.scopeIds.delete(stored.assignment.scope);
    }
    detach(this.byPrincipal, stored.principalKey, stored);
    this.packed.delete(stored.principalKey);
  }

  /** Changes whenever a scope newly holds assignments, so resolved ids can be memoized. */
  get generation(): number {
    return this.scopeGeneration;
  }

  /** The id of a scope that holds assignments, or undefined when none is made there. */
  scopeId(scope: string): number | undefined {
    return this.scopeIds.get(scope);
  }

  /** (scope id, role slot) pairs of the principal's assignments, or undefined if it has none. */
  packedOf(principalKey: string): Int32Array | undefined {
    let pairs = this.packed.get(principalKey);
    if (pairs === undefined) {
      const list = this.byPrincipal.get(principalKey);
      if (list === undefined) return undefined;
      pairs = Int32Array.from(list.flatMap((s) => [s.scopeId, s.roleSlot]));
      this.packed.set(principalKey, pairs);
    }
    return pairs;
  }

  /** The principal's assignments; `packedOf(…)` index i / 2 is entry i / 2 here. */
  of(principalKey: string): readonly StoredAssignment[] {
    return this.byPrincipal.get(principalKey) ?? NONE;
  }

  /** Every assignment made exactly at `scope` (normalized), in the order they were put. */
  at(scope: string): readonly StoredAssignment[] {
    return this.byScope.get(scope) ?? NONE;
  }
}

function append<V>(index: Map<string, V[]>, key: string, value: V): void {
  const list = index.get(key);
  if (list === undefined) index.set(key, [value]);
  else list.push(value);
}

/** Removes `value` from the list at `key`; returns how many are left there. */
function detach<V>(index: Map<string, V[]>, key: string, value: V): number {
  const rest = (index.get(key) ?? []).filter((v) => v !== value);
  if (rest.length === 0) index.delete(key);
  else index.set(key, rest);
  return rest.length;
}
