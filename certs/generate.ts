// The webhook's PKI: a self-signed CA and a serving certificate it signs, valid for the names the
// API server dials (the Service's DNS names) and for localhost, so the embedded mode and the
// in-cluster mode use the same code. Pure apart from key generation (node-forge hands RSA keygen
// to Node's native crypto when it can, so it takes milliseconds, not seconds).

import forge from 'node-forge';
import { CertError } from './errors.js';

export interface CertOptions {
  /** The webhook Service's name. Default `varmor-webhook`. */
  serviceName?: string;
  /** The Service's namespace. Default `varmor`. */
  namespace?: string;
  /** More DNS names for the serving certificate. */
  extraDnsNames?: string[];
  /** IP addresses for the serving certificate. Default `127.0.0.1` and `::1`. */
  ipAddresses?: string[];
  /** Validity of the CA and the serving certificate, in days. Default 365. */
  validityDays?: number;
  /** RSA modulus size. Default 2048. */
  keyBits?: number;
  /** The clock, for tests of expiry. */
  now?: Date;
}

export interface KeyPair {
  cert: string; // PEM
  key: string; // PEM (PKCS#1 RSA private key)
}

export interface CertBundle {
  ca: KeyPair;
  serving: KeyPair;
}

export const DEFAULT_SERVICE = 'varmor-webhook';
export const DEFAULT_NAMESPACE = 'varmor';

/** The names a Service is reachable by from inside the cluster, then localhost. */
export function serviceDnsNames(serviceName = DEFAULT_SERVICE, namespace = DEFAULT_NAMESPACE): string[] {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(serviceName))
    throw new CertError('VARMOR_ERR_CERT_INVALID_OPTION', `serviceName ${JSON.stringify(serviceName)} is not a DNS-1035 label`, 'serviceName');
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace))
    throw new CertError('VARMOR_ERR_CERT_INVALID_OPTION', `namespace ${JSON.stringify(namespace)} is not a DNS-1123 label`, 'namespace');
  return [
    serviceName,
    `${serviceName}.${namespace}`,
    `${serviceName}.${namespace}.svc`,
    `${serviceName}.${namespace}.svc.cluster.local`,
    'localhost',
  ];
}

function serial(): string {
  // A positive 128-bit serial: the high bit cleared so DER does not read it as negative.
  const bytes = forge.random.getBytesSync(16);
  const first = (bytes.charCodeAt(0) & 0x7f) | 0x01;
  return forge.util.bytesToHex(String.fromCharCode(first) + bytes.slice(1));
}

function validity(cert: forge.pki.Certificate, opts: CertOptions): void {
  const days = opts.validityDays ?? 365;
  if (!Number.isFinite(days) || days <= 0)
    throw new CertError('VARMOR_ERR_CERT_INVALID_OPTION', `validityDays must be a positive number, got ${days}`, 'validityDays');
  const now = opts.now ?? new Date();
  // Back-date by five minutes: clocks in a cluster are not perfectly in step.
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000);
  cert.validity.notAfter = new Date(now.getTime() + days * 86_400_000);
}

function keyPair(opts: CertOptions): forge.pki.rsa.KeyPair {
  const bits = opts.keyBits ?? 2048;
  if (bits < 2048) throw new CertError('VARMOR_ERR_CERT_INVALID_OPTION', `keyBits must be at least 2048, got ${bits}`, 'keyBits');
  return forge.pki.rsa.generateKeyPair({ bits, e: 0x10001 });
}

export function generateCA(opts: CertOptions = {}): KeyPair {
  const keys = keyPair(opts);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  validity(cert, opts);
  const subject = [
    { name: 'commonName', value: `varmor-ts CA (${opts.namespace ?? DEFAULT_NAMESPACE})` },
    { name: 'organizationName', value: 'varmor-ts' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

export function issueServingCert(ca: KeyPair, opts: CertOptions = {}): KeyPair {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const names = [...serviceDnsNames(opts.serviceName, opts.namespace), ...(opts.extraDnsNames ?? [])];
  const ips = opts.ipAddresses ?? ['127.0.0.1', '::1'];
  const keys = keyPair(opts);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  validity(cert, opts);
  cert.setSubject([{ name: 'commonName', value: names[2] }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [...names.map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))] },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

export function generateBundle(opts: CertOptions = {}): CertBundle {
  const ca = generateCA(opts);
  return { ca, serving: issueServingCert(ca, opts) };
}

export interface CertInfo {
  dnsNames: string[];
  ipAddresses: string[];
  notBefore: Date;
  notAfter: Date;
  serialNumber: string;
}

export function describeCert(pem: string): CertInfo {
  let cert: forge.pki.Certificate;
  try {
    cert = forge.pki.certificateFromPem(pem);
  } catch (err) {
    throw new CertError('VARMOR_ERR_CERT_READ_FAILED', `not a PEM certificate: ${(err as Error).message}`);
  }
  const san = cert.getExtension('subjectAltName') as { altNames?: { type: number; value?: string; ip?: string }[] } | null;
  const alt = san?.altNames ?? [];
  return {
    dnsNames: alt.filter((a) => a.type === 2).map((a) => a.value ?? ''),
    ipAddresses: alt.filter((a) => a.type === 7).map((a) => a.ip ?? ''),
    notBefore: cert.validity.notBefore,
    notAfter: cert.validity.notAfter,
    serialNumber: cert.serialNumber,
  };
}

/** True when `serving` was signed by `ca`. */
export function verifyIssued(ca: string, serving: string): boolean {
  try {
    return forge.pki.certificateFromPem(ca).verify(forge.pki.certificateFromPem(serving));
  } catch {
    return false;
  }
}
