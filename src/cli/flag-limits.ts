/** Checks of a length flag against the model it is for, made as soon as the model's config is known and before any data is read or run. */

/** Throws when `value` tokens do not fit the model's position table, naming the flag and both numbers. */
export function checkFitsPositions(flag: string, value: number | undefined, config: { max_position_embeddings: number }): void {
  const max = config.max_position_embeddings;
  if (value !== undefined && value > max) {
    throw new Error(`${flag} ${value} exceeds the model's max_position_embeddings (${max}): inputs longer than its position table cannot run`);
  }
}
