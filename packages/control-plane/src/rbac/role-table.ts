// Role definitions by id, each with a small integer slot that assignments refer to, so that
// the hot path reads an array instead of hashing a role id, and a redefined role takes
// effect everywhere at once. An id with no definition has an empty slot: it grants nothing.
import type { CompiledRole } from './compiled-role.js';
import { idKey } from './principal-id.js';

export class RoleTable {
  private readonly slots = new Map<string, number>();
  private readonly roles: (CompiledRole | undefined)[] = [];

  /** The slot for a role id, made on first mention (an assignment may name a role not yet defined). */
  slotOf(roleId: string): number {
    const key = idKey(roleId);
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.roles.length;
      this.slots.set(key, slot);
      this.roles.push(undefined);
    }
    return slot;
  }

  at(slot: number): CompiledRole | undefined {
    return this.roles[slot];
  }

  get(roleId: string): CompiledRole | undefined {
    const slot = this.slots.get(idKey(roleId));
    return slot === undefined ? undefined : this.roles[slot];
  }

  set(role: CompiledRole): void {
    this.roles[this.slotOf(role.definition.name)] = role;
  }

  delete(roleId: string): void {
    const slot = this.slots.get(idKey(roleId));
    if (slot !== undefined) this.roles[slot] = undefined;
  }
}
