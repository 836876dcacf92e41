// The authorization engine of one node among several: each change this node makes is
// published, and a change another node published makes this one read the whole state back from
// the database (role assignments are few enough, and a partial update could miss a cascade).
import type { Kysely } from 'kysely';
import { loadAuthorizationState } from '../authorization/load-authorization-state.js';
import { Authorizer } from '../rbac/authorizer.js';
import type { PrincipalType, RoleAssignment, RoleDefinition } from '../rbac/types.js';
import type { Database } from '../store/schema.js';
import type { ClusterChannel } from './cluster-channel.js';

export class SharedAuthorizer extends Authorizer {
  private channel: ClusterChannel | undefined;
  private reloading: Promise<void> | undefined;
  private again = false;
  /** Changes made here, so that a reload which raced one reads again rather than lose it. */
  private localChanges = 0;

  /** After the start-up load: publish this node's changes, follow the others'. */
  share(db: Kysely<Database>, channel: ClusterChannel, onError: (error: unknown) => void): void {
    this.channel = channel;
    channel.subscribe('authorization', (_payload, origin) => {
      if (origin === 'remote') this.reloadSoon(db, onError);
    });
    channel.onReset({ resync: () => this.reload(db) });
  }

  override putRoleDefinition(definition: RoleDefinition): void {
    super.putRoleDefinition(definition);
    this.changed();
  }

  override removeRoleDefinition(name: string): void {
    super.removeRoleDefinition(name);
    this.changed();
  }

  override putRoleAssignment(input: RoleAssignment): void {
    super.putRoleAssignment(input);
    this.changed();
  }

  override removeRoleAssignment(name: string): void {
    super.removeRoleAssignment(name);
    this.changed();
  }

  override setGroupMembers(groupId: string, memberIds: readonly string[]): void {
    super.setGroupMembers(groupId, memberIds);
    this.changed();
  }

  override removePrincipal(principalId: string): void {
    super.removePrincipal(principalId);
    this.changed();
  }

  override putPrincipal(principalId: string, principalType: PrincipalType): void {
    super.putPrincipal(principalId, principalType);
    this.changed();
  }

  /** Reads everything back, again if this node changed something meanwhile. */
  async reload(db: Kysely<Database>): Promise<void> {
    for (;;) {
      const before = this.localChanges;
      const loaded = new Authorizer();
      await loadAuthorizationState(db, loaded);
      if (before !== this.localChanges) continue;
      this.replaceState(loaded);
      return;
    }
  }

  /** One reload at a time; changes heard during one are read by one more. */
  private reloadSoon(db: Kysely<Database>, onError: (error: unknown) => void): void {
    if (this.reloading !== undefined) {
      this.again = true;
      return;
    }
    this.reloading = this.reload(db)
      .catch(onError)
      .finally(() => {
        this.reloading = undefined;
        if (this.again) {
          this.again = false;
          this.reloadSoon(db, onError);
        }
      });
  }

  /** Called after the store committed the change (the stores write first, then tell the engine). */
  private changed(): void {
    this.localChanges++;
    this.channel?.publish('authorization', '');
  }
}
