/**
 * Runs `fn` over `items` with at most `concurrency` calls in flight and returns the results in
 * input order. The first failure stops new calls from starting and is rethrown.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const runner = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const runners = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, runner);
  await Promise.all(runners);
  return results;
}
