/** MQTT topic-filter matching (MQTT 3.1.1 §4.7), shared by the ACL and the tests. */

/** True when concrete `topic` matches subscription `filter` (`+` one level, `#` the rest). */
export function topicMatchesFilter(topic: string, filter: string): boolean {
  if (topic.startsWith('$') && !filter.startsWith('$')) return false; // §4.7.2: $-topics need an explicit filter
  const t = topic.split('/');
  const f = filter.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i] as string;
    if (level === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return t.length === f.length;
}

/**
 * True when every topic matched by `filter` is also matched by `pattern`: a subscription to
 * `filter` can never deliver a message `pattern` does not allow.
 */
export function filterCovers(pattern: string, filter: string): boolean {
  if (filter.startsWith('$') && !pattern.startsWith('$')) return false;
  const p = pattern.split('/');
  const f = filter.split('/');
  for (let i = 0; i < p.length; i++) {
    const level = p[i] as string;
    if (level === '#') return i === p.length - 1;
    if (i >= f.length) return false;
    const want = f[i] as string;
    if (want === '#') return false; // the filter reaches deeper or wider than a non-# pattern level
    if (level === '+') continue;
    if (want === '+' || want !== level) return false;
  }
  return f.length === p.length;
}

/** A well-formed filter: `#` only as the last level, wildcards only as whole levels, not empty. */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  return levels.every((l, i) => (l === '#' ? i === levels.length - 1 : l === '+' || (!l.includes('#') && !l.includes('+'))));
}
