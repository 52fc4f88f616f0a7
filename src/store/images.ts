/** Image records and names in the metadata database. */
import type { ImageMetadata, ImageRecord, ImageTag } from '../core/images.js';
import type { Digest } from '../lib/digest.js';
import type { Descriptor } from '../oci/image.js';
import type { DB } from './db.js';

interface Row {
  id: string;
  manifest: string;
  idx: string | null;
  parent: string | null;
  added: number;
  last_tag_time: number | null;
}

function toRecord(row: Row): ImageRecord {
  const rec: ImageRecord = {
    id: row.id as Digest,
    manifest: JSON.parse(row.manifest) as Descriptor,
    added: row.added,
  };
  if (row.idx) rec.index = JSON.parse(row.idx) as Descriptor;
  if (row.parent) rec.parent = row.parent as Digest;
  if (row.last_tag_time !== null) rec.lastTagTime = row.last_tag_time;
  return rec;
}

export class SqliteImages implements ImageMetadata {
  constructor(private readonly db: DB) {}

  get(id: Digest): ImageRecord | undefined {
    const row = this.db.prepare('SELECT * FROM images WHERE id = ?').get(id) as Row | undefined;
    return row && toRecord(row);
  }

  list(): ImageRecord[] {
    return (this.db.prepare('SELECT * FROM images ORDER BY added DESC').all() as Row[]).map(toRecord);
  }

  byPrefix(hexPrefix: string): ImageRecord[] {
    const pattern = `sha256:${hexPrefix.replace(/[%_]/g, '')}%`;
    return (this.db.prepare('SELECT * FROM images WHERE id LIKE ?').all(pattern) as Row[]).map(toRecord);
  }

  put(record: ImageRecord, names: string[] = []): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO images(id, manifest, idx, parent, added, last_tag_time) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET manifest = excluded.manifest, idx = excluded.idx,
             parent = COALESCE(excluded.parent, images.parent), last_tag_time = COALESCE(excluded.last_tag_time, images.last_tag_time)`,
        )
        .run(
          record.id,
          JSON.stringify(record.manifest),
          record.index ? JSON.stringify(record.index) : null,
          record.parent ?? null,
          record.added,
          record.lastTagTime ?? null,
        );
      for (const name of names) this.setName(name, record.id);
    })();
  }

  delete(id: Digest): void {
    this.db.prepare('DELETE FROM images WHERE id = ?').run(id);
  }

  resolveName(name: string): Digest | undefined {
    const row = this.db.prepare('SELECT image_id FROM image_names WHERE name = ?').get(name) as { image_id: string } | undefined;
    return row?.image_id as Digest | undefined;
  }

  setName(name: string, id: Digest): void {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO image_names(name, image_id) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id')
        .run(name, id);
      this.db.prepare('UPDATE images SET last_tag_time = ? WHERE id = ?').run(Date.now(), id);
    })();
  }

  removeName(name: string): void {
    this.db.prepare('DELETE FROM image_names WHERE name = ?').run(name);
  }

  names(): ImageTag[] {
    const rows = this.db.prepare('SELECT name, image_id FROM image_names ORDER BY name').all() as Array<{ name: string; image_id: string }>;
    return rows.map((r) => ({ name: r.name, id: r.image_id as Digest }));
  }

  namesOf(id: Digest): string[] {
    const rows = this.db.prepare('SELECT name FROM image_names WHERE image_id = ? ORDER BY name').all(id) as Array<{ name: string }>;
    return rows.map((r) => r.name);
  }
}
