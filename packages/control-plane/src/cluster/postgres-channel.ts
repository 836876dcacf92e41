// The channel between nodes sharing one PostgreSQL database: NOTIFY through the pool, and one
// dedicated connection per node that LISTENs, reconnects when it is lost (after which every
// cache is distrusted until read again), and holds the advisory lock that makes its node the
// leader. The lock belongs to that connection's session, so a node that dies or loses its
// connection stops leading at once and another node takes the lock on its next check.
import { createHash, randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import type { ClusterChannel, ClusterTopic, TopicListener } from './cluster-channel.js';
import { Subscribers } from './cluster-channel.js';

export interface ChannelLog {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

export interface PostgresChannelOptions {
  url: string;
  /** The schema the tables live in: nodes of another schema on the same server are not peers. */
  schema?: string | undefined;
  log: ChannelLog;
  /** How often the connection is checked and the leader lock tried. */
  checkMs?: number;
  /** What the listening connection calls itself in pg_stat_activity. */
  applicationName?: string;
}

const DEFAULT_CHECK_MS = 2_000;
/** A check not answered in this long means the connection is gone, whatever TCP says. */
const CHECK_TIMEOUT_MS = 5_000;
const RECONNECT_MIN_MS = 200;
const RECONNECT_MAX_MS = 5_000;

interface Message {
  /** The node that published it. */
  n: string;
  t: ClusterTopic;
  p: string;
}

export class PostgresChannel implements ClusterChannel {
  private readonly subscribers = new Subscribers();
  private readonly nodeId = randomUUID();
  private readonly name: string;
  private readonly lost: (() => void)[] = [];
  private readonly resyncs: (() => Promise<void>)[] = [];
  private readonly leadership: (() => void)[] = [];
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reconnectDelay = RECONNECT_MIN_MS;
  private closed = false;
  private checking = false;
  subscribed = false;
  leader = false;

  private constructor(
    private readonly pgModule: typeof pg,
    private readonly db: Kysely<never>,
    private readonly options: PostgresChannelOptions,
  ) {
    this.name =
      options.schema === undefined
        ? 'tether_cluster'
        : `tether_cluster_${createHash('sha256').update(options.schema).digest('hex').slice(0, 16)}`;
  }

  /** Subscribes before returning, so the node starts with nothing missed. */
  static async open<DB>(db: Kysely<DB>, options: PostgresChannelOptions): Promise<PostgresChannel> {
    const { default: pgModule } = await import('pg');
    const channel = new PostgresChannel(pgModule, db as unknown as Kysely<never>, options);
    await channel.connect();
    channel.timer = setInterval(() => void channel.check(), options.checkMs ?? DEFAULT_CHECK_MS);
    channel.timer.unref();
    void channel.check();
    return channel;
  }

  publish(topic: ClusterTopic, payload: string): void {
    this.subscribers.deliver(topic, payload, 'local');
    const message: Message = { n: this.nodeId, t: topic, p: payload };
    sql`select pg_notify(${this.name}, ${JSON.stringify(message)})`
      .execute(this.db)
      .catch((error: unknown) =>
        // The change is committed; the other nodes lose their connection too when the
        // database is away, and read everything again when they have it back.
        this.options.log.warn({ err: error, topic }, 'change notification not sent'),
      );
  }

  subscribe(topic: ClusterTopic, listener: TopicListener): () => void {
    return this.subscribers.add(topic, listener);
  }

  onReset(handlers: { lost?: () => void; resync?: () => Promise<void> }): void {
    if (handlers.lost !== undefined) this.lost.push(handlers.lost);
    if (handlers.resync !== undefined) this.resyncs.push(handlers.resync);
  }

  onLeadership(listener: () => void): void {
    this.leadership.push(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.subscribed = false;
    this.leader = false;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new this.pgModule.Client({
      connectionString: this.options.url,
      keepAlive: true,
      application_name: this.options.applicationName ?? 'tether-cluster',
      connectionTimeoutMillis: CHECK_TIMEOUT_MS,
    });
    client.on('error', (error) => this.drop(client, error));
    client.on('end', () => this.drop(client, undefined));
    client.on('notification', (notice) => this.receive(notice.channel, notice.payload));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.name}"`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    try {
      // Whatever was published while no connection listened is read back from the database.
      for (const resync of this.resyncs) await resync();
    } catch (error) {
      if (this.client === client) this.client = undefined;
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.client !== client) return;
    this.subscribed = true;
    this.reconnectDelay = RECONNECT_MIN_MS;
  }

  private receive(channel: string, payload: string | undefined): void {
    if (channel !== this.name || payload === undefined) return;
    let message: Message;
    try {
      message = JSON.parse(payload) as Message;
    } catch {
      return;
    }
    if (message.n === this.nodeId || typeof message.p !== 'string') return;
    this.subscribers.deliver(message.t, message.p, 'remote');
  }

  /** The listening connection is gone: distrust every cache, stop leading, reconnect. */
  private drop(client: pg.Client, error: unknown): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.subscribed = false;
    const wasLeader = this.leader;
    this.leader = false;
    for (const lost of this.lost) lost();
    void client.end().catch(() => undefined);
    if (this.closed) return;
    this.options.log.warn(
      { err: error, wasLeader },
      'lost the database change notifications; refusing requests until they are back',
    );
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    // Jittered, so that nodes which lost the database together do not return in step.
    const delay = this.reconnectDelay * (0.5 + Math.random() / 2);
    this.reconnectDelay = Math.min(RECONNECT_MAX_MS, this.reconnectDelay * 2);
    setTimeout(() => {
      if (this.closed) return;
      this.connect().then(
        () => {
          if (this.subscribed) this.options.log.info({}, 'database change notifications are back');
          void this.check();
        },
        () => this.scheduleReconnect(),
      );
    }, delay).unref();
  }

  /** Proves the connection alive, and takes the leader lock when no node holds it. */
  private async check(): Promise<void> {
    const client = this.client;
    if (client === undefined || this.checking || !this.subscribed) return;
    this.checking = true;
    let timeout: NodeJS.Timeout | undefined;
    try {
      const answer = client.query<{ held: boolean }>(
        this.leader ? 'SELECT true AS held' : 'SELECT pg_try_advisory_lock(hashtext($1)) AS held',
        this.leader ? [] : [`${this.name}:leader`],
      );
      const expired = new Promise<never>((_resolve, reject) => {
        timeout = setTimeout(
          () => reject(new Error('connection check timed out')),
          CHECK_TIMEOUT_MS,
        );
      });
      const held = (await Promise.race([answer, expired])).rows[0]?.held === true;
      if (held && !this.leader && this.client === client) {
        this.leader = true;
        this.options.log.info({}, 'this node now runs the periodic jobs');
        for (const listener of this.leadership) listener();
      }
    } catch (error) {
      this.drop(client, error);
    } finally {
      clearTimeout(timeout);
      this.checking = false;
    }
  }
}
