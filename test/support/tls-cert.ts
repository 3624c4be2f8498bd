import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCert {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** SHA-256 fingerprint, as tls's getPeerX509Certificate().fingerprint256 reports it. */
  readonly fingerprint: string;
}

/**
 * A self-signed certificate for localhost and 127.0.0.1, made by the real openssl at test time
 * (nothing checked into the repository expires). `name` picks the files in `dir`.
 */
export async function selfSignedCert(dir: string, name: string): Promise<TestCert> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
  return { certFile, keyFile, cert, key, fingerprint: new X509Certificate(cert).fingerprint256 };
}
