/**
 * Lookups of names a user wrote (config.json fields, --task, tokens in a data file) in a table of
 * known ones. `name in table` and `table[name]` also find what every object inherits —
 * 'constructor', 'toString', '__proto__' — so such a name would pass as known and fail later
 * with a raw JavaScript error; only the table's own entries count here.
 */

/** Whether `name` is one of the table's own keys. */
export function isKnown<T extends object>(table: T, name: string): name is Extract<keyof T, string> {
  return Object.hasOwn(table, name);
}

/** The table's entry for `name`, or an error: "unknown <what> '<name>' (expected one of a, b, c)". */
export function lookup<T>(table: Readonly<Record<string, T>>, name: string, what: string): T {
  if (!isKnown(table, name)) throw new Error(`unknown ${what} '${name}' (expected one of ${Object.keys(table).join(', ')})`);
  return table[name];
}
