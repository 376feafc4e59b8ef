// RFC 6901 JSON Pointer escaping: `~` becomes `~0` first, then `/` becomes `~1` (the order matters:
// the other way round would turn `/` into `~01`). Annotation keys always contain a `/`.

export function escapePointer(token: string): string {
  const tilde = token.indexOf('~') !== -1;
  if (!tilde && token.indexOf('/') === -1) return token;
  return (tilde ? token.replaceAll('~', '~0') : token).replaceAll('/', '~1');
}
