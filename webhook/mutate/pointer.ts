// RFC 6901 JSON Pointer escaping: `~` becomes `~0` first, then `/` becomes `~1` (the order matters:
// the other way round would turn `/` into `~01`). Annotation keys always contain a `/`.

export function escapePointer(token: string): string {
  if (token.indexOf('~') === -1 && token.indexOf('/') === -1) return token;
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
