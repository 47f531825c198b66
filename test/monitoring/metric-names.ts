/**
 * Which metrics a PromQL expression reads, and which a /metrics page exports: enough PromQL for the
 * dashboard's and the alerting rules' expressions (selectors, functions, aggregations with their
 * label lists, binary operators with their matching clauses, ranges, offsets, Grafana's variables).
 */

/** Words that stand where a metric name could, but are PromQL's own. */
const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'inf',
  'nan',
]);

/** The metric names `expr` selects, in order of appearance, each once. */
export function metricNamesIn(expr: string): string[] {
  const bare = expr
    // String literals: label values and function arguments (`{reason!="late"}`, label_replace's).
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    // What is left of label matchers: label names.
    .replace(/\{[^}]*\}/g, ' ')
    // Ranges and subqueries, with Grafana's $__rate_interval.
    .replace(/\[[^\]]*\]/g, ' ')
    // Label lists of aggregations and vector matching: `by (agent, le)`, `on (namespace) group_left (x)`.
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+-?\w+/g, ' ')
    // Numbers (0.95, 1e3, 0x1f), before their letters pass for names.
    .replace(/\b\d[\w.]*/g, ' ');
  const names: string[] = [];
  for (const match of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = match[0];
    const callsSomething = /^\s*\(/.test(bare.slice(match.index + name.length));
    if (callsSomething || KEYWORDS.has(name.toLowerCase()) || names.includes(name)) continue;
    names.push(name);
  }
  return names;
}

/**
 * The sample names of a Prometheus text exposition: a histogram `x` exports `x_bucket`, `x_sum` and
 * `x_count`, which is what a query names; the family name alone selects nothing.
 */
export function exportedSampleNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (match) names.add(match[1]!);
  }
  return names;
}
