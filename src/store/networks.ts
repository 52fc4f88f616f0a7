/** Networks, endpoints and published ports in the metadata database. */
import type { Endpoint, NetworkRecord, NetworkStore, PortMapping } from '../core/networks.js';
import { conflict } from '../lib/errors.js';
import type { DB } from './db.js';

const isUnique = (err: unknown) => err instanceof Error && /UNIQUE constraint failed/.test(err.message);

export class SqliteNetworks implements NetworkStore {
  constructor(private readonly db: DB) {}

  get(id: string): NetworkRecord | undefined {
    const row = this.db.prepare('SELECT data FROM networks WHERE id = ?').get(id) as { data: string } | undefined;
    return row && (JSON.parse(row.data) as NetworkRecord);
  }

  byName(name: string): NetworkRecord | undefined {
    const row = this.db.prepare('SELECT data FROM networks WHERE name = ?').get(name) as { data: string } | undefined;
    return row && (JSON.parse(row.data) as NetworkRecord);
  }

  list(): NetworkRecord[] {
    return (this.db.prepare('SELECT data FROM networks').all() as Array<{ data: string }>).map((r) => JSON.parse(r.data) as NetworkRecord);
  }

  put(record: NetworkRecord): void {
    try {
      this.db
        .prepare('INSERT INTO networks(id, name, data) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, data = excluded.data')
        .run(record.id, record.name, JSON.stringify(record));
    } catch (err) {
      if (isUnique(err)) throw conflict(`network with name ${record.name} already exists`);
      throw err;
    }
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM networks WHERE id = ?').run(id);
  }

  endpoints(filter: { networkId?: string; containerId?: string } = {}): Endpoint[] {
    let rows: Array<{ data: string }>;
    if (filter.networkId) rows = this.db.prepare('SELECT data FROM endpoints WHERE network_id = ?').all(filter.networkId) as Array<{ data: string }>;
    else if (filter.containerId) rows = this.db.prepare('SELECT data FROM endpoints WHERE container_id = ?').all(filter.containerId) as Array<{ data: string }>;
    else rows = this.db.prepare('SELECT data FROM endpoints').all() as Array<{ data: string }>;
    const all = rows.map((r) => JSON.parse(r.data) as Endpoint);
    return filter.networkId && filter.containerId ? all.filter((e) => e.containerId === filter.containerId) : all;
  }

  putEndpoint(e: Endpoint): void {
    try {
      this.db
        .prepare('INSERT INTO endpoints(id, network_id, container_id, ip, data) VALUES (?, ?, ?, ?, ?)')
        .run(e.id, e.networkId, e.containerId, e.ip, JSON.stringify(e));
    } catch (err) {
      if (isUnique(err)) throw conflict(`Address already in use: ${e.ip}`);
      throw err;
    }
  }

  deleteEndpoint(id: string): void {
    this.db.prepare('DELETE FROM endpoints WHERE id = ?').run(id);
  }

  ports(containerId?: string): PortMapping[] {
    const rows = (
      containerId
        ? this.db.prepare('SELECT data FROM port_mappings WHERE container_id = ?').all(containerId)
        : this.db.prepare('SELECT data FROM port_mappings').all()
    ) as Array<{ data: string }>;
    return rows.flatMap((r) => JSON.parse(r.data) as PortMapping[]);
  }

  putPorts(containerId: string, ports: PortMapping[]): void {
    this.db
      .prepare('INSERT INTO port_mappings(container_id, data) VALUES (?, ?) ON CONFLICT(container_id) DO UPDATE SET data = excluded.data')
      .run(containerId, JSON.stringify(ports));
  }

  deletePorts(containerId: string): void {
    this.db.prepare('DELETE FROM port_mappings WHERE container_id = ?').run(containerId);
  }
}
