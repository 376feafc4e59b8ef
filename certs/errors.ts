// Errors of the certificate module, with codes callers can branch on.

export type CertErrorCode =
  | 'VARMOR_ERR_CERT_INVALID_OPTION' // a bad option (empty service name, non-positive validity, ...)
  | 'VARMOR_ERR_CERT_READ_FAILED' // the files exist but cannot be read or parsed
  | 'VARMOR_ERR_CERT_KEY_MISMATCH'; // a certificate and a key that do not belong together

export class CertError extends Error {
  override readonly name = 'CertError';
  constructor(
    readonly code: CertErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
