// What a new password must be: long enough, not absurdly long (every check hashes it), and not
// the person's own name. Each refusal says which rule and what is accepted.

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

export interface PasswordOwner {
  userPrincipalName: string;
  displayName: string;
}

/** Why `password` is refused for `owner`, or undefined when it is acceptable. */
export function passwordProblem(password: string, owner: PasswordOwner): string | undefined {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    return `it has ${length} characters; a password needs at least ${MIN_PASSWORD_LENGTH}`;
  }
  if (length > MAX_PASSWORD_LENGTH) {
    return `it has ${length} characters; a password may have at most ${MAX_PASSWORD_LENGTH}`;
  }
  if (password.trim() !== password) {
    return 'it begins or ends with white space, which is easily lost when typed or pasted';
  }
  if ([...password].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    return 'it contains a control character; use printable characters only';
  }
  const lowered = password.toLowerCase();
  const names = [
    owner.userPrincipalName.toLowerCase(),
    owner.userPrincipalName.split('@')[0]?.toLowerCase() ?? '',
    owner.displayName.toLowerCase(),
  ].filter((name) => name.length >= 3);
  if (names.some((name) => lowered.includes(name))) {
    return 'it contains the user name or display name; choose one that does not';
  }
  if (new Set(lowered).size < 4) {
    return 'it repeats too few different characters; use at least 4 different ones';
  }
  return undefined;
}
