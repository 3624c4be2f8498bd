import type { StandardSchemaV1 } from '../client/standard-schema.js';

/** `createHub({ topicSchemas })`: a schema per exact topic name or `prefix*` pattern. */
export type TopicSchemas = Readonly<Record<string, StandardSchemaV1>>;

/**
 * The schema that governs a topic: its exact name first, else the longest matching `prefix*`
 * pattern, else none (anything goes). Built once; a lookup is a Map get plus a scan of the
 * patterns, which are few.
 */
export function schemaLookup(schemas: TopicSchemas | undefined): (topic: string) => StandardSchemaV1 | undefined {
  if (!schemas) return () => undefined;
  const exact = new Map<string, StandardSchemaV1>();
  const prefixes: [string, StandardSchemaV1][] = [];
  for (const [key, schema] of Object.entries(schemas)) {
    if (typeof schema?.['~standard']?.validate !== 'function')
      throw new TypeError(`topicSchemas["${key}"] is not a Standard Schema (no ~standard.validate)`);
    if (key.endsWith('*')) prefixes.push([key.slice(0, -1), schema]);
    else exact.set(key, schema);
  }
  prefixes.sort(([a], [b]) => b.length - a.length);
  if (exact.size === 0 && prefixes.length === 0) return () => undefined;
  return (topic) => exact.get(topic) ?? prefixes.find(([prefix]) => topic.startsWith(prefix))?.[1];
}

/** The first issue, as one line: `text: Expected string, got number`. */
export function describeIssues(issues: readonly StandardSchemaV1.Issue[]): string {
  const first = issues[0];
  if (!first) return 'invalid';
  const path = (first.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.');
  return `${path ? `${path}: ` : ''}${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`;
}
