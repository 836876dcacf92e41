// Shows a value read from untrusted JSON (a token header, a claim) in an error message. String()
// would call the value's own toString, and a crafted object makes that throw instead of refusing.
export function untrustedText(value: unknown, maxLength = 100): string {
  let text: string | undefined;
  if (typeof value === 'string') text = value;
  else {
    try {
      text = JSON.stringify(value);
    } catch {
      text = undefined;
    }
  }
  return (text ?? typeof value).slice(0, maxLength);
}
