/**
 * Which topics keep history: a list of exact names and `prefix*` patterns (the CLI's
 * `--history-topics a,b,chat:*`); absent or empty: every topic. Exact names are a Set lookup,
 * patterns a startsWith each: the list is short and this runs once per publish.
 */
export function topicMatcher(patterns: readonly string[] | undefined): (topic: string) => boolean {
  if (patterns === undefined || patterns.length === 0) return () => true;
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const p of patterns) {
    if (p.endsWith('*')) prefixes.push(p.slice(0, -1));
    else exact.add(p);
  }
  if (prefixes.includes('')) return () => true;
  return (topic) => exact.has(topic) || prefixes.some((prefix) => topic.startsWith(prefix));
}
