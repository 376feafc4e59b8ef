// The local cluster's PKI: one CA (from the project's certs/ code), the API server's serving certificate
// (certs/ again: the `kubernetes` Service's DNS names plus the addresses it is dialled on), client
// certificates for the admin, the control-plane components, the kubelet and the API server's kubelet client,
// and the service-account signing key. Everything is written as PEM files into one directory.

import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { generateCA, issueServingCert, type KeyPair } from '../../certs/generate.js';

export interface ClusterPki {
  dir: string;
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  saPub: string;
  saKey: string;
  /** Client certificate files by name (admin, kubelet, kube-controller-manager, ...). */
  clients: Record<string, { cert: string; key: string }>;
}

export interface ClientIdentity {
  /** File name stem and the key into `clients`. */
  name: string;
  /** The user name the API server sees (certificate CN). */
  user: string;
  /** Groups (certificate O). */
  groups: string[];
}

/** Issues a TLS client certificate signed by the CA (certs/ only issues serving certificates). */
export function issueClientCert(ca: KeyPair, id: ClientIdentity): KeyPair {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = forge.util.bytesToHex(String.fromCharCode(0x01) + forge.random.getBytesSync(15));
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 5 * 60_000);
  cert.validity.notAfter = new Date(now + 365 * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: id.user }, ...id.groups.map((value) => ({ name: 'organizationName', value }))]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

export interface PkiOptions {
  /** IP addresses the API server is dialled on (loopback, the Service IP, the node IP). */
  apiserverIPs: string[];
  clients: ClientIdentity[];
}

export function writeClusterPki(dir: string, opts: PkiOptions): ClusterPki {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const write = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text, { mode: name.endsWith('.key') ? 0o600 : 0o644 });
    return p;
  };
  const ca = generateCA({ namespace: 'cluster', validityDays: 365 });
  const serving = issueServingCert(ca, {
    serviceName: 'kubernetes',
    namespace: 'default',
    ipAddresses: opts.apiserverIPs,
    validityDays: 365,
  });
  const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pki: ClusterPki = {
    dir,
    caCert: write('ca.crt', ca.cert),
    caKey: write('ca.key', ca.key),
    apiserverCert: write('apiserver.crt', serving.cert),
    apiserverKey: write('apiserver.key', serving.key),
    saPub: write('sa.pub', sa.publicKey.export({ type: 'spki', format: 'pem' }).toString()),
    saKey: write('sa.key', sa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
    clients: {},
  };
  for (const id of opts.clients) {
    const kp = issueClientCert(ca, id);
    pki.clients[id.name] = { cert: write(`${id.name}.crt`, kp.cert), key: write(`${id.name}.key`, kp.key) };
  }
  return pki;
}
