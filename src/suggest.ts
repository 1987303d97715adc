/** "Did you mean": the closest candidate to a misspelt name, when it is close enough to be a typo. */

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** The candidate within a third of the name's length in edits (at least 2), or one that starts with it. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  const n = name.toLowerCase();
  let best: string | undefined, bestD = Infinity;
  for (const c of candidates) {
    const d = distance(n, c.toLowerCase());
    if (d < bestD) { best = c; bestD = d; }
  }
  if (best !== undefined && bestD <= Math.max(2, Math.floor(n.length / 3))) return best;
  return [...candidates].find((c) => n.length >= 3 && c.toLowerCase().startsWith(n));
}

/** ` (did you mean x?)` or ''. */
export function didYouMean(name: string, candidates: Iterable<string>, prefix = ''): string {
  const c = closest(name, candidates);
  return c === undefined ? '' : ` (did you mean ${prefix}${c}?)`;
}
