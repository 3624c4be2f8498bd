import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HubConfigError } from '../errors.js';

/** Where the standalone server's certificate and key are (PEM files; re-read on SIGHUP). */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** The PEM contents as `https.createServer` and `server.setSecureContext` take them. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
}

const why = (error: unknown): string => {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return (error as Error).message.replace(/\.$/, '');
};

const read = (file: string, what: string, flag: string): Buffer => {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new HubConfigError({
      reason: 'invalid-value',
      message: `Cannot read the TLS ${what} file "${file}" (${flag}): ${why(error)}.`,
    });
  }
};

/**
 * Reads and checks the certificate and key, so that a bad file is one sentence at start-up (or,
 * on SIGHUP, a logged error with the old certificates kept) rather than an OpenSSL code at the
 * first handshake. Each check names the file at fault: unreadable, not PEM, or a key that does
 * not belong to the certificate. Throws a HubConfigError.
 */
export function loadTls(files: TlsFiles): TlsMaterial {
  const cert = read(files.certFile, 'certificate', '--tls-cert');
  const key = read(files.keyFile, 'key', '--tls-key');
  let certificate: X509Certificate;
  try {
    // The first certificate of the file is the server's own; a chain may follow it.
    certificate = new X509Certificate(cert);
  } catch {
    throw new HubConfigError({
      reason: 'invalid-value',
      message: `The TLS certificate file "${files.certFile}" (--tls-cert) holds no PEM certificate.`,
    });
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new HubConfigError({
      reason: 'invalid-value',
      message: `The TLS key file "${files.keyFile}" (--tls-key) holds no unencrypted PEM private key.`,
    });
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new HubConfigError({
      reason: 'invalid-value',
      message: `The TLS key file "${files.keyFile}" (--tls-key) does not belong to the certificate "${files.certFile}" (--tls-cert).`,
    });
  }
  return { cert, key };
}
