// The one error the compilers throw: input that passed validation but still cannot become a
// profile (a missing behaviour model, a custom profile that is not valid JSON). It names the
// field, like validation errors do, so the controller can put it in the policy's status.

export class ProfileCompileError extends Error {
  readonly code: string;
  readonly path: string;
  constructor(code: string, path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'ProfileCompileError';
    this.code = code;
    this.path = path;
  }
}
