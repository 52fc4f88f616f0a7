/**
 * The metadata database: one SQLite file in WAL mode, one writer (berthd).
 * Each store module owns its tables; the schema is migrated forward here.
 */
import Database from 'better-sqlite3';

export type DB = Database.Database;

const MIGRATIONS: string[] = [
  `CREATE TABLE images (
     id TEXT PRIMARY KEY,
     manifest TEXT NOT NULL,
     idx TEXT,
     parent TEXT,
     added INTEGER NOT NULL,
     last_tag_time INTEGER
   );
   CREATE TABLE image_names (
     name TEXT PRIMARY KEY,
     image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
   );
   CREATE INDEX image_names_by_image ON image_names(image_id);
   CREATE TABLE layers (
     chain_id TEXT PRIMARY KEY,
     diff_id TEXT NOT NULL,
     parent TEXT,
     size INTEGER NOT NULL,
     tar_size INTEGER NOT NULL,
     dir_id INTEGER NOT NULL UNIQUE,
     created INTEGER NOT NULL
   );
   CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);`,
  `CREATE TABLE rw_layers (
     id TEXT PRIMARY KEY,
     parent TEXT,
     created INTEGER NOT NULL
   );
   CREATE TABLE containers (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     data TEXT NOT NULL
   );`,
  `CREATE TABLE networks (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     data TEXT NOT NULL
   );
   CREATE TABLE endpoints (
     id TEXT PRIMARY KEY,
     network_id TEXT NOT NULL,
     container_id TEXT NOT NULL,
     ip TEXT NOT NULL,
     data TEXT NOT NULL,
     UNIQUE (network_id, ip)
   );
   CREATE INDEX endpoints_by_container ON endpoints(container_id);
   CREATE TABLE port_mappings (
     container_id TEXT PRIMARY KEY,
     data TEXT NOT NULL
   );`,
  `CREATE TABLE volumes (
     name TEXT PRIMARY KEY,
     driver TEXT NOT NULL,
     labels TEXT NOT NULL,
     options TEXT NOT NULL,
     created TEXT NOT NULL
   );`,
  `CREATE TABLE build_cache (
     key TEXT PRIMARY KEY,
     image TEXT NOT NULL,
     created INTEGER NOT NULL
   );`,
  `CREATE TABLE blob_sources (
     digest TEXT NOT NULL,
     registry TEXT NOT NULL,
     repository TEXT NOT NULL,
     seen INTEGER NOT NULL,
     PRIMARY KEY (digest, registry, repository)
   );
   CREATE TABLE compressed_layers (
     diff_id TEXT NOT NULL,
     media_type TEXT NOT NULL,
     digest TEXT NOT NULL,
     size INTEGER NOT NULL,
     PRIMARY KEY (diff_id, media_type)
   );`,
];

export function openDb(path: string): DB {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  cacheStatements(db);
  return db;
}

/**
 * Every query text is compiled once per connection: the stores ask for their
 * statements by text on each call, and compiling costs more than most of
 * their queries. Safe because no statement is iterated lazily or switched to
 * another mode (pluck, raw, expand), so one compiled statement serves every caller.
 */
function cacheStatements(db: DB): void {
  const prepare = db.prepare.bind(db);
  const compiled = new Map<string, Database.Statement>();
  const cached = (sql: string): Database.Statement => {
    let stmt = compiled.get(sql);
    if (!stmt) compiled.set(sql, (stmt = prepare(sql)));
    return stmt;
  };
  db.prepare = cached as DB['prepare'];
}

function migrate(db: DB): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/** Next value of a named counter, durable across restarts. */
export function nextCounter(db: DB, name: string): number {
  const row = db
    .prepare('INSERT INTO counters(name, value) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value')
    .get(name) as { value: number };
  return row.value;
}
