/** Distribution metadata in the metadata database: where blobs are known to be, and compressed forms of layers. */
import type { BlobSource, CompressedLayer, DistributionMetadata } from '../core/distribution.js';
import type { Digest } from '../lib/digest.js';
import type { DB } from './db.js';

export class SqliteDistribution implements DistributionMetadata {
  constructor(private readonly db: DB) {}

  sources(digest: Digest): BlobSource[] {
    return this.db
      .prepare('SELECT registry, repository FROM blob_sources WHERE digest = ? ORDER BY seen DESC')
      .all(digest) as BlobSource[];
  }

  addSource(digest: Digest, source: BlobSource): void {
    this.db
      .prepare(
        `INSERT INTO blob_sources(digest, registry, repository, seen) VALUES (?, ?, ?, ?)
         ON CONFLICT(digest, registry, repository) DO UPDATE SET seen = excluded.seen`,
      )
      .run(digest, source.registry, source.repository, Date.now());
  }

  removeSource(digest: Digest, source: BlobSource): void {
    this.db.prepare('DELETE FROM blob_sources WHERE digest = ? AND registry = ? AND repository = ?').run(digest, source.registry, source.repository);
  }

  compressed(diffId: Digest, mediaType: string): CompressedLayer | undefined {
    const row = this.db
      .prepare('SELECT digest, size, media_type FROM compressed_layers WHERE diff_id = ? AND media_type = ?')
      .get(diffId, mediaType) as { digest: Digest; size: number; media_type: string } | undefined;
    return row && { digest: row.digest, size: row.size, mediaType: row.media_type };
  }

  setCompressed(diffId: Digest, layer: CompressedLayer): void {
    this.db
      .prepare(
        `INSERT INTO compressed_layers(diff_id, media_type, digest, size) VALUES (?, ?, ?, ?)
         ON CONFLICT(diff_id, media_type) DO UPDATE SET digest = excluded.digest, size = excluded.size`,
      )
      .run(diffId, layer.mediaType, layer.digest, layer.size);
  }
}
