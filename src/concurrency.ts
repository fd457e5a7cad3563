/**
 * Runs `fn` over `items` with at most `concurrency` calls in flight and returns the results in
 * input order. `items` may be async (a paged listing): it is read as calls finish, never ahead of
 * them. The first failure, of a call or of reading `items`, stops new calls and is rethrown.
 */
export async function mapWithConcurrency<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const source: Iterator<T> | AsyncIterator<T> =
    Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  const lanes = Array.isArray(items) ? Math.min(concurrency, items.length) : concurrency;
  const results: R[] = [];
  let next = 0;
  let failed = false;
  const lane = async () => {
    try {
      while (!failed) {
        const item = await source.next();
        if (item.done) return;
        const index = next++;
        results[index] = await fn(item.value, index);
      }
    } catch (err) {
      failed = true;
      throw err;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, lanes) }, lane));
  return results;
}
