/** Volume metadata in the metadata database, one row per volume. */
import { conflict } from '../lib/errors.js';
import type { VolumeRecord, VolumeStore } from '../core/volumes.js';
import type { DB } from './db.js';

interface Row {
  name: string;
  driver: string;
  labels: string;
  options: string;
  created: string;
}

const fromRow = (r: Row): VolumeRecord => ({
  name: r.name,
  driver: r.driver,
  labels: JSON.parse(r.labels) as Record<string, string>,
  options: JSON.parse(r.options) as Record<string, string>,
  created: r.created,
});

export class SqliteVolumes implements VolumeStore {
  constructor(private readonly db: DB) {}

  get(name: string): VolumeRecord | undefined {
    const row = this.db.prepare('SELECT * FROM volumes WHERE name = ?').get(name) as Row | undefined;
    return row && fromRow(row);
  }

  list(): VolumeRecord[] {
    return (this.db.prepare('SELECT * FROM volumes ORDER BY name').all() as Row[]).map(fromRow);
  }

  add(v: VolumeRecord): void {
    const r = this.db
      .prepare('INSERT INTO volumes(name, driver, labels, options, created) VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING')
      .run(v.name, v.driver, JSON.stringify(v.labels), JSON.stringify(v.options), v.created);
    if (r.changes === 0) throw conflict(`volume ${v.name} already exists`);
  }

  delete(name: string): void {
    this.db.prepare('DELETE FROM volumes WHERE name = ?').run(name);
  }
}
