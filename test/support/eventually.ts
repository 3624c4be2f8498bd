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

/** Awaits `p`, or fails naming what did not happen within `ms` (a deaf or stopped node never answers). */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
