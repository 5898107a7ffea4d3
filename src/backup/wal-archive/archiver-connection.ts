// The archiver's own SQL connection (slot advances, lag samples, seeding decisions), reopened on demand: a
// PostgreSQL restart or crash breaks it, and the next use connects again instead of ending the archiver.
import type { RuntimeCluster } from '../../config/index.js';
import { connectPostgres, type PgClient } from '../../postgres/index.js';

export class ArchiverConnection {
  readonly #postgres: RuntimeCluster['postgres'];
  #client: PgClient | undefined;

  constructor(postgres: RuntimeCluster['postgres']) {
    this.#postgres = postgres;
  }

  /**
   * Run `work` on the connection. Any failure drops the connection; when it happened on a connection opened
   * earlier (possibly to a server that restarted since), `work` is tried once more on a fresh one.
   * Rejects with postgresUnavailable when the server cannot be reached, else with the query's error.
   */
  async use<T>(work: (client: PgClient) => Promise<T>): Promise<T> {
    const reused = this.#client !== undefined;
    try {
      return await this.#attempt(work);
    } catch (error) {
      if (!reused) throw error;
      return this.#attempt(work);
    }
  }

  async close(): Promise<void> {
    await this.#drop();
  }

  async #attempt<T>(work: (client: PgClient) => Promise<T>): Promise<T> {
    const client = await this.#connect();
    try {
      return await work(client);
    } catch (error) {
      await this.#drop();
      throw error;
    }
  }

  async #connect(): Promise<PgClient> {
    this.#client ??= await connectPostgres(this.#postgres, 'lifeboat-archiver');
    return this.#client;
  }

  async #drop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }
}
