import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { BlobStore } from './blob-store.js';
import { DatabaseBlobStore } from './database-blob-store.js';
import { DiskBlobStore } from './disk-blob-store.js';

export type BlobStoreKind = 'disk' | 'database';

/**
 * The configured blob store: on the local disk under the data directory (embedded default), or in
 * the database (the default with PostgreSQL: files then survive a site with the database and every
 * node reads them). The server and `preau purge` open it the same way.
 */
export function openBlobStore(kind: BlobStoreKind, dataDir: string, db: Kysely<Database>): BlobStore {
  return kind === 'database' ? new DatabaseBlobStore(db) : new DiskBlobStore(path.join(dataDir, 'blobs'));
}
