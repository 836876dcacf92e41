// Group membership, nested groups included: Azure RBAC gives a member of a group that is
// itself a member of another group the assignments of both, so membership is followed
// transitively. Cycles (A in B, B in A) are legal in a directory and are walked once.

const NONE: readonly string[] = Object.freeze([]);
const NONE_ENTRIES: readonly (readonly [string, string])[] = Object.freeze([]);

/** Keys are case-folded ids; the original spelling of each member is kept for display. */
export class GroupIndex {
  /** group → (member key → member id as given). */
  private readonly members = new Map<string, Map<string, string>>();
  /** member → groups it belongs to directly. */
  private readonly memberOf = new Map<string, Set<string>>();
  /** Transitive groups per principal; dropped whole on any change, rebuilt on demand. */
  private closure = new Map<string, readonly string[]>();

  setMembers(groupKey: string, members: ReadonlyMap<string, string>): void {
    this.detachMembers(groupKey);
    this.members.set(groupKey, new Map(members));
    for (const memberKey of members.keys()) {
      let groups = this.memberOf.get(memberKey);
      if (groups === undefined) this.memberOf.set(memberKey, (groups = new Set()));
      groups.add(groupKey);
    }
    this.closure = new Map();
  }

  /** Forgets the principal as a member of every group and, if it is a group, its members. */
  removePrincipal(key: string): void {
    this.detachMembers(key);
    this.members.delete(key);
    for (const groupKey of this.memberOf.get(key) ?? []) this.members.get(groupKey)?.delete(key);
    this.memberOf.delete(key);
    this.closure = new Map();
  }

  isGroup(key: string): boolean {
    return this.members.has(key);
  }

  /** Every group the principal belongs to, directly or through other groups. */
  groupsOf(key: string): readonly string[] {
    let groups = this.closure.get(key);
    if (groups === undefined) {
      if (!this.memberOf.has(key)) return NONE;
      const reached = walk(key, (k) =>
        [...(this.memberOf.get(k) ?? NONE)].map((g) => [g, g] as const),
      );
      groups = Object.freeze([...reached.keys()]);
      this.closure.set(key, groups);
    }
    return groups;
  }

  /** Every principal in the group, directly or through nested groups: key → id as given. */
  membersOf(groupKey: string): Map<string, string> {
    return walk(groupKey, (k) => this.members.get(k)?.entries() ?? NONE_ENTRIES);
  }

  private detachMembers(groupKey: string): void {
    for (const memberKey of this.members.get(groupKey)?.keys() ?? []) {
      const groups = this.memberOf.get(memberKey);
      groups?.delete(groupKey);
      if (groups?.size === 0) this.memberOf.delete(memberKey);
    }
  }
}

/**
 * Breadth-first walk from `start` (left out of the result) along `next`, which yields
 * key → id edges; `reached` doubles as the visited set, so a cycle ends the walk.
 */
function walk(
  start: string,
  next: (key: string) => Iterable<readonly [string, string]>,
): Map<string, string> {
  const reached = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    for (const [key, id] of next(queue[i] ?? '')) {
      if (key === start || reached.has(key)) continue;
      reached.set(key, id);
      queue.push(key);
    }
  }
  return reached;
}
