// Cheap input generators: free text mixed with the tokens each grammar is made of, and JSON
// whose keys are mostly the ones the parser knows, so inputs get past the first check.
import fc from 'fast-check';

const ODD_TEXT = ['', ' ', '\u0000', '\uFEFF', '\uD800', '💥', '%00', '\\', '"', "'", '\n'];

/** Text: random characters, or a run of grammar tokens with a little noise between them. */
export function textFrom(tokens: readonly string[], maxTokens = 12): fc.Arbitrary<string> {
  const token = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...tokens) },
    { weight: 2, arbitrary: fc.constantFrom(...ODD_TEXT) },
    { weight: 2, arbitrary: fc.string({ maxLength: 6 }) },
  );
  return fc.oneof(
    { weight: 1, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }) },
    {
      weight: 4,
      arbitrary: fc.array(token, { maxLength: maxTokens }).map((parts) => parts.join('')),
    },
  );
}

const SCALARS: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    1.5,
    1e308,
    -0,
    '',
    'true',
    Number.MAX_SAFE_INTEGER + 2,
  ),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 12 }),
);

/**
 * JSON values built around the given keys and leaf values: objects mostly use the known keys,
 * sometimes unknown ones or prototype names; leaves are the known values or odd scalars.
 */
export function jsonAround(
  keys: readonly string[],
  leaves: readonly unknown[] = [],
  depth = 4,
): fc.Arbitrary<unknown> {
  const key = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...keys) },
    { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', '') },
    { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
  );
  const leaf =
    leaves.length === 0
      ? SCALARS
      : fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...leaves) },
          { weight: 2, arbitrary: SCALARS },
        );
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth: depth, withCrossShrink: true },
      leaf,
      fc.array(tie('value'), { maxLength: 4 }),
      fc
        .array(fc.tuple(key, tie('value')), { maxLength: 5 })
        .map((entries) => JSON.parse(JSON.stringify(Object.fromEntries(entries))) as unknown),
    ),
  }));
  return value;
}

/** An object with the given keys mostly present: good for deep records with required fields. */
export function recordAround(
  fields: Readonly<Record<string, fc.Arbitrary<unknown>>>,
): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(fields, { requiredKeys: [] });
}
