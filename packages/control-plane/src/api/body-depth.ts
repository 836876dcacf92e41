// How deeply a JSON body nests, measured without unbounded recursion: bodies nested thousands
// deep overflow the stack wherever they are later serialized or walked, so they are refused up
// front.

/** Deeper than any ARM body or extension setting needs; an SDK's deepest is about ten. */
export const MAX_BODY_DEPTH = 64;

/** The first path (`properties.settings.a.b…`) deeper than `limit`, or undefined. */
export function tooDeepAt(body: unknown, limit: number = MAX_BODY_DEPTH): string | undefined {
  // Nearly every body is shallow: found so without naming a path, which costs a string per key.
  if (withinDepth(body, limit)) return undefined;
  const stack: { value: unknown; depth: number; path: string }[] = [
    { value: body, depth: 0, path: '' },
  ];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop() as { value: unknown; depth: number; path: string };
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= limit) return path;
    const entries = Array.isArray(value)
      ? value.map((item, index) => [`[${index}]`, item] as const)
      : Object.entries(value).map(
          ([key, item]) => [`${path === '' ? '' : '.'}${key}`, item] as const,
        );
    for (const [key, item] of entries)
      stack.push({ value: item, depth: depth + 1, path: `${path}${key}` });
  }
  return undefined;
}

/** Whether nothing in `value` nests `remaining` levels or more; recursion stops at `limit`. */
function withinDepth(value: unknown, remaining: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (remaining === 0) return false;
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) if (!withinDepth(item, remaining - 1)) return false;
    return true;
  }
  for (const item of Object.values(value)) if (!withinDepth(item, remaining - 1)) return false;
  return true;
}
