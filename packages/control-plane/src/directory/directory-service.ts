// Directory operations: each writes the database first, then brings the in-memory authorizer
// and the token cache in line, so a deleted principal or credential loses its access and its
// tokens at once.
import { randomUUID } from 'node:crypto';
import { ArmError } from '../api/arm-error.js';
import type { Clock } from '../clock.js';
import type { CredentialRow, PrincipalRow } from '../identity/credential-store.js';
import type { TokenRevocations } from '../identity/token-authenticator.js';
import type { AuthorizationEngine } from '../rbac/types.js';
import { newKeyCredential, newPasswordCredential } from './credential-factory.js';
import { conflict, notFound } from './directory-error.js';
import type { DirectoryStore, PrincipalType } from './directory-store.js';
import type { UserPasswords } from './user-passwords.js';

/** Enough for overlapping rotation of several secrets and certificates. */
export const MAX_CREDENTIALS_PER_PRINCIPAL = 20;

const KIND_NAMES: Record<PrincipalType, string> = {
  ServicePrincipal: 'Service principal',
  User: 'User',
  Group: 'Group',
};

export class DirectoryService {
  constructor(
    readonly store: DirectoryStore,
    private readonly authorizer: AuthorizationEngine,
    private readonly revocations: TokenRevocations,
    private readonly clock: Clock,
    readonly passwords: UserPasswords,
  ) {}

  async get(type: PrincipalType, id: string): Promise<PrincipalRow> {
    const principal = await this.store.principal(id, type);
    if (principal === undefined) throw notFound(KIND_NAMES[type], id);
    return principal;
  }

  async createServicePrincipal(
    displayName: string,
    replyUrls?: readonly string[],
  ): Promise<PrincipalRow> {
    return this.known(
      await this.store.insertPrincipal({
        id: randomUUID(),
        type: 'ServicePrincipal',
        displayName,
        appId: randomUUID(),
        ...(replyUrls === undefined ? {} : { replyUrls }),
      }),
    );
  }

  /** The redirect URIs people signing in to this application may be sent back to. */
  async setReplyUrls(servicePrincipalId: string, urls: readonly string[]): Promise<void> {
    const principal = await this.get('ServicePrincipal', servicePrincipalId);
    refuseMachineIdentity(principal);
    await this.store.setReplyUrls(principal.id, urls);
  }

  /** `password`, when given, is checked against the policy before anything is written. */
  async createUser(
    displayName: string,
    userPrincipalName: string,
    password?: unknown,
  ): Promise<PrincipalRow> {
    const taken = (): ArmError =>
      conflict(
        'userPrincipalName',
        `A user with userPrincipalName '${userPrincipalName}' already exists.`,
      );
    const checked =
      password === undefined
        ? undefined
        : this.passwords.check(
            password,
            { userPrincipalName, displayName },
            'passwordProfile.password',
          );
    if ((await this.store.principalByUpn(userPrincipalName)) !== undefined) throw taken();
    const id = randomUUID();
    const credential =
      checked === undefined ? undefined : await this.passwords.credential(id, checked);
    try {
      const user = await this.store.db.transaction().execute(async (trx) => {
        const row = await this.store.insertPrincipal(
          { id, type: 'User', displayName, userPrincipalName },
          trx,
        );
        if (credential !== undefined) await this.store.insertCredential(credential, trx);
        return row;
      });
      return this.known(user);
    } catch (error) {
      // Two requests for one name at once: the unique index decides, the loser hears why.
      if ((await this.store.principalByUpn(userPrincipalName)) !== undefined) throw taken();
      throw error;
    }
  }

  async createGroup(displayName: string, description: string | null): Promise<PrincipalRow> {
    return this.known(
      await this.store.insertPrincipal({
        id: randomUUID(),
        type: 'Group',
        displayName,
        description,
      }),
    );
  }

  /** Tells the authorizer the new principal's type (the access view shows it). */
  private known(principal: PrincipalRow): PrincipalRow {
    this.authorizer.putPrincipal(principal.id, principal.type);
    return principal;
  }

  /** Removes the principal everywhere: database, role assignments in memory, cached tokens. */
  async delete(type: PrincipalType, id: string): Promise<void> {
    const principal = await this.get(type, id);
    refuseMachineIdentity(principal);
    await this.store.deletePrincipal(principal.id);
    this.authorizer.removePrincipal(principal.id);
    this.revocations.forgetPrincipal(principal.id);
  }

  async addPassword(
    servicePrincipalId: string,
    displayName: string,
    endMs: number,
  ): Promise<{ row: CredentialRow; secretText: string }> {
    const principal = await this.writableServicePrincipal(servicePrincipalId);
    const created = await newPasswordCredential(principal.id, displayName, endMs, this.clock.now());
    await this.store.insertCredential(created.row);
    return created;
  }

  async addKey(
    servicePrincipalId: string,
    displayName: string,
    certificate: string,
    endMs: number | undefined,
  ): Promise<CredentialRow> {
    const principal = await this.writableServicePrincipal(servicePrincipalId);
    const row = newKeyCredential(principal.id, displayName, certificate, endMs, this.clock.now());
    const existing = await this.store.credentials(principal.id);
    if (existing.some((c) => c.thumbprint_s256 === row.thumbprint_s256)) {
      throw conflict(
        'keyCredential.key',
        `This certificate (x5t#S256 ${row.thumbprint_s256 ?? ''}) is already a key credential of service principal '${principal.id}'.`,
      );
    }
    await this.store.insertCredential(row);
    return row;
  }

  /** Deletes a credential; tokens obtained with it stop working at once. */
  async removeCredential(
    servicePrincipalId: string,
    keyId: string,
    kind: CredentialRow['kind'],
  ): Promise<void> {
    const principal = await this.get('ServicePrincipal', servicePrincipalId);
    refuseMachineIdentity(principal);
    if (!(await this.store.deleteCredential(principal.id, keyId, kind))) {
      throw notFound(kind === 'password' ? 'Password credential' : 'Key credential', keyId);
    }
    this.revocations.forgetCredential(keyId);
  }

  async addMember(groupId: string, memberId: string): Promise<void> {
    const group = await this.get('Group', groupId);
    const member = await this.store.principal(memberId);
    if (member === undefined) throw notFound('Directory object', memberId);
    if (member.id === group.id) {
      throw new ArmError('BadRequest', `Group '${group.id}' cannot be a member of itself.`, {
        target: '@odata.id',
      });
    }
    if (!(await this.store.addMember(group.id, member.id))) {
      throw new ArmError(
        'BadRequest',
        `One or more added object references already exist: '${member.id}' is already a member of group '${group.id}'.`,
        { target: '@odata.id' },
      );
    }
    this.authorizer.setGroupMembers(group.id, await this.store.memberIds(group.id));
  }

  async removeMember(groupId: string, memberId: string): Promise<void> {
    const group = await this.get('Group', groupId);
    if (!(await this.store.removeMember(group.id, memberId))) {
      throw notFound(`Member of group '${group.id}'`, memberId);
    }
    this.authorizer.setGroupMembers(group.id, await this.store.memberIds(group.id));
  }

  private async writableServicePrincipal(id: string): Promise<PrincipalRow> {
    const principal = await this.get('ServicePrincipal', id);
    refuseMachineIdentity(principal);
    const count = (await this.store.credentials(principal.id)).length;
    if (count >= MAX_CREDENTIALS_PER_PRINCIPAL) {
      throw new ArmError(
        'BadRequest',
        `Service principal '${principal.id}' already has ${count} credentials, the most allowed; remove an old one first.`,
      );
    }
    return principal;
  }
}

/** A machine's system-assigned identity lives and dies with its machine resource. */
function refuseMachineIdentity(principal: PrincipalRow): void {
  if (principal.machine_id === null) return;
  throw new ArmError(
    'BadRequest',
    `Service principal '${principal.id}' is the system-assigned identity of machine '${principal.machine_id}'; it is managed through that machine, not the directory.`,
  );
}
