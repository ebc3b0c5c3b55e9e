/**
 * Names close to a misspelt one: Levenshtein edit distance and the closest candidates, for error messages that
 * suggest what was meant ("did you mean `pool`?"). Pure TypeScript, no tf import.
 *
 * @module
 */
/**
 * Levenshtein edit distance between two strings (plain dynamic programming, O(|a||b|)).
 *
 * @example
 * ```ts
 * editDistance('kitten', 'sitting'); // 3
 * ```
 */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/**
 * Up to `k` names of `names` closest to `name` (edit distance, case-insensitive; ties keep the model order).
 *
 * @example
 * ```ts
 * closeNames('conv_2', ['conv1', 'conv2', 'fc1'], 2); // ['conv2', 'conv1']
 * ```
 */
export function closeNames(name: string, names: readonly string[], k = 5): string[] {
  const lower = name.toLowerCase();
  return names
    .map((n, i) => ({ n, i, d: editDistance(lower, n.toLowerCase()) }))
    .sort((x, y) => x.d - y.d || x.i - y.i)
    .slice(0, k)
    .map((x) => x.n);
}

/** `'a', 'b', 'c'` for an error message. */
export function quoteNames(names: readonly string[]): string {
  return names.map((c) => `'${c}'`).join(', ');
}
