// LIKE patterns built from data: every wildcard in the data is escaped, so a name holding
// '_' or '%' matches only itself. Use with `escape '\'` (needed on SQLite, harmless on PostgreSQL).

/** Pattern matching every id strictly below `prefix` (`prefix/…`). */
export function likeBelow(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}/%`;
}

/** Pattern matching every value that starts with `prefix`. */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
