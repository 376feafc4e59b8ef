// Certificates for the admission webhook: generation (node-forge), files and Secret, hot reload.
export { CertError, type CertErrorCode } from './errors.js';
export {
  DEFAULT_NAMESPACE,
  DEFAULT_SERVICE,
  describeCert,
  generateBundle,
  generateCA,
  issueServingCert,
  serviceDnsNames,
  verifyIssued,
  type CertBundle,
  type CertInfo,
  type CertOptions,
  type KeyPair,
} from './generate.js';
export { FILES, caBundle, checkPair, ensureCertFiles, readServingFiles, toSecret, writeCertFiles, type ServingFiles } from './files.js';
export { CertReloader, type ReloaderOptions, type SecureContextTarget } from './reload.js';
