/** Container records in the metadata database, one JSON document per container. */
import type { ContainerRecord, ContainerStore } from '../core/containers.js';
import type { DB } from './db.js';

export class SqliteContainers implements ContainerStore {
  constructor(private readonly db: DB) {}

  get(id: string): ContainerRecord | undefined {
    const row = this.db.prepare('SELECT data FROM containers WHERE id = ?').get(id) as { data: string } | undefined;
    return row && (JSON.parse(row.data) as ContainerRecord);
  }

  byName(name: string): ContainerRecord | undefined {
    const row = this.db.prepare('SELECT data FROM containers WHERE name = ?').get(name) as { data: string } | undefined;
    return row && (JSON.parse(row.data) as ContainerRecord);
  }

  list(): ContainerRecord[] {
    return (this.db.prepare('SELECT data FROM containers').all() as Array<{ data: string }>).map((r) => JSON.parse(r.data) as ContainerRecord);
  }

  put(record: ContainerRecord): void {
    this.db
      .prepare('INSERT INTO containers(id, name, data) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, data = excluded.data')
      .run(record.id, record.name, JSON.stringify(record));
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM containers WHERE id = ?').run(id);
  }
}
