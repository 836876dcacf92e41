// Ordering of package versions (`major.minor[.patch[.build]]`): numeric part by part, so 1.10
// comes after 1.9, as the repository lists them and auto-upgrade picks the newest.

/** Negative when `a` is older than `b`; a version with more parts follows its equal prefix. */
export function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? -1) - (right[i] ?? -1);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** Newest first. */
export function byNewestVersion<T extends { version: string }>(a: T, b: T): number {
  return compareVersions(b.version, a.version);
}
