import type { TopicGrant } from '../../machines/client.types.js';
import { topicMatcher } from '../history/topics.js';

/** Whether `value` is a list of topic names and `prefix*` patterns, as a token's `topics` claim must be. */
export const isTopicList = (value: unknown): value is readonly string[] =>
  Array.isArray(value) && value.every((t) => typeof t === 'string' && t.length > 0);

/**
 * The topics a token grants, as one predicate: exact names and `prefix*` patterns (`*` alone:
 * every topic). Unlike history's list, an empty grant allows nothing: a token that names no
 * topic must not open them all.
 */
export function topicGrant(patterns: readonly string[]): TopicGrant {
  if (patterns.length === 0) return () => false;
  return topicMatcher(patterns);
}
