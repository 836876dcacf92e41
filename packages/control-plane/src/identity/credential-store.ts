// The identity service's reads of the directory: service principals by appId, their
// credentials, whether a token's principal and credential still exist, and the record of
// client assertions already used.
import type { CompiledQuery, Kysely, Selectable } from 'kysely';
import type { Clock } from '../clock.js';
import { lastHeartbeatSql } from '../machines/liveness-log.js';
import type {
  CredentialsTable,
  Database,
  MachineAgentsTable,
  PrincipalsTable,
} from '../store/schema.js';

/** The public-key columns (0003) are absent from the password and certificate rows built in code. */
type PublicKeyColumns = 'key_id' | 'public_key';
export type CredentialRow = Omit<Selectable<CredentialsTable>, PublicKeyColumns> &
  Partial<Pick<Selectable<CredentialsTable>, PublicKeyColumns>>;
export type PrincipalRow = Selectable<PrincipalsTable>;

export interface LiveSubject {
  principal: PrincipalRow;
  credential: CredentialRow;
}

/** Placeholders the one-time compiled liveness queries are filled in at. */
const PRINCIPAL_ID = '\u0000principal-id';
const CREDENTIAL_ID = '\u0000credential-id';

export class CredentialStore {
  /** Built once: every token is checked again every 30 s, most of them a machine's. */
  private readonly principalQuery: CompiledQuery<PrincipalRow>;
  private readonly credentialQuery: CompiledQuery<CredentialRow>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {
    this.principalQuery = db
      .selectFrom('principals')
      .selectAll()
      .where('id', '=', PRINCIPAL_ID)
      .compile();
    this.credentialQuery = db
      .selectFrom('credentials')
      .selectAll()
      .where('id', '=', CREDENTIAL_ID)
      .where('principal_id', '=', PRINCIPAL_ID)
      .compile();
  }

  async servicePrincipalByAppId(appId: string): Promise<PrincipalRow | undefined> {
    return this.db
      .selectFrom('principals')
      .selectAll()
      .where('app_id', '=', appId.toLowerCase())
      .where('type', '=', 'ServicePrincipal')
      .executeTakeFirst();
  }

  /** A person by sign-in name (user principal names are stored lower-cased). */
  async userByUpn(userPrincipalName: string): Promise<PrincipalRow | undefined> {
    return this.db
      .selectFrom('principals')
      .selectAll()
      .where('user_principal_name', '=', userPrincipalName.toLowerCase())
      .where('type', '=', 'User')
      .executeTakeFirst();
  }

  /** Stores a stronger hash of the same password: the credential, and so its tokens, stay. */
  async rehashPassword(credentialId: string, secretHash: string): Promise<void> {
    await this.db
      .updateTable('credentials')
      .set({ secret_hash: secretHash })
      .where('id', '=', credentialId)
      .execute();
  }

  async credentialsOf(principalId: string, kind: CredentialRow['kind']): Promise<CredentialRow[]> {
    return this.db
      .selectFrom('credentials')
      .selectAll()
      .where('principal_id', '=', principalId)
      .where('kind', '=', kind)
      .execute();
  }

  /** A machine identity's public-key credential by its key id (the assertion's `kid`). */
  async publicKeyCredential(
    principalId: string,
    keyId: string,
  ): Promise<CredentialRow | undefined> {
    return this.db
      .selectFrom('credentials')
      .selectAll()
      .where('principal_id', '=', principalId)
      .where('kind', '=', 'publicKey')
      .where('key_id', '=', keyId)
      .executeTakeFirst();
  }

  /**
   * The agent state of the machine whose identity `machineId` names; its last heartbeat
   * includes the liveness log's unfolded entries.
   */
  async machineAgent(machineId: string): Promise<Selectable<MachineAgentsTable> | undefined> {
    return this.db
      .selectFrom('machine_agents')
      .select([
        'machine_id',
        'principal_id',
        'credential_expires_at',
        'revoked_at',
        'rotation_requested',
        lastHeartbeatSql().as('last_heartbeat_at'),
        'connected_since',
        'report',
        'report_hash',
        'onboarded_at',
      ])
      .where('machine_id', '=', machineId)
      .executeTakeFirst();
  }

  /** The principal and credential a token names, if both still exist. */
  async liveSubject(principalId: string, credentialId: string): Promise<LiveSubject | undefined> {
    const fill = <R>(query: CompiledQuery<R>): CompiledQuery<R> => ({
      ...query,
      parameters: query.parameters.map((p) =>
        p === PRINCIPAL_ID ? principalId : p === CREDENTIAL_ID ? credentialId : p,
      ),
    });
    const [principals, credentials] = await Promise.all([
      this.db.executeQuery(fill(this.principalQuery)),
      this.db.executeQuery(fill(this.credentialQuery)),
    ]);
    const [principal] = principals.rows;
    const [credential] = credentials.rows;
    if (principal === undefined || credential === undefined) return undefined;
    return { principal, credential };
  }

  /**
   * Records a client assertion as used for `audience`; false when it was used for it before (a
   * replay). The row outlives the assertion's own expiry, after which no replay could pass.
   */
  async consumeAssertion(
    appId: string,
    audience: string,
    jti: string,
    expiresAtMs: number,
  ): Promise<boolean> {
    const key = { app_id: appId.toLowerCase(), audience, jti };
    await this.db
      .deleteFrom('client_assertions')
      .where('expires_at', '<', new Date(this.clock.now()).toISOString())
      .execute();
    try {
      await this.db
        .insertInto('client_assertions')
        .values({ ...key, expires_at: new Date(expiresAtMs).toISOString() })
        .execute();
      return true;
    } catch (error) {
      const seen = await this.db
        .selectFrom('client_assertions')
        .select('jti')
        .where('app_id', '=', key.app_id)
        .where('audience', '=', audience)
        .where('jti', '=', jti)
        .executeTakeFirst();
      if (seen !== undefined) return false;
      throw error;
    }
  }
}
