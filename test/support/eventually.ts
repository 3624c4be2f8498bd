/**
 * Resolves once `condition()` holds, checking on each turn of the event loop (at most every
 * 5 ms) for state no event announces, such as a socket the server closed. Fails after `ms`.
 */
export async function eventually(condition: () => boolean, ms = 3_000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`${what} did not hold within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
