/** Tables of the content module in the shared metadata database (util/sqlite migrate). */
export const CONTENT_MIGRATIONS = [
  `CREATE TABLE content_ingest_locks (
     ref TEXT PRIMARY KEY,
     pid INTEGER NOT NULL,
     start TEXT NOT NULL,
     since INTEGER NOT NULL
   );
   CREATE TABLE leases (
     id TEXT PRIMARY KEY,
     pid INTEGER,
     start TEXT,
     created INTEGER NOT NULL,
     labels TEXT NOT NULL DEFAULT '{}'
   );
   CREATE TABLE lease_resources (
     lease TEXT NOT NULL REFERENCES leases(id) ON DELETE CASCADE,
     kind TEXT NOT NULL,
     key TEXT NOT NULL,
     PRIMARY KEY (lease, kind, key)
   );
   CREATE INDEX lease_resources_key ON lease_resources(kind, key);`,
  // 2: labels on content, e.g. where a blob came from (`berth.io/distribution.source.<registry>`
  //    = repository), so a push to that registry can mount it instead of uploading it.
  `CREATE TABLE content_labels (
     digest TEXT NOT NULL,
     key TEXT NOT NULL,
     value TEXT NOT NULL,
     PRIMARY KEY (digest, key)
   );`,
];
