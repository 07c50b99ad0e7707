/**
 * Self-signed TLS certificates for tests, made with openssl at test time (nothing is
 * checked in): a key and certificate for 127.0.0.1, valid for a chosen number of days.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Why a certificate cannot be made here (printed with console.warn), or undefined when openssl is available. */
export function opensslMissing(): string | undefined {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    const reason = 'openssl is not on PATH: cannot make a self-signed certificate for the HTTPS tests';
    console.warn(`skipping: ${reason}`);
    return reason;
  }
}

/** A self-signed certificate for 127.0.0.1 (CN and IP SAN) valid for `days` days, written under `dir`. */
export function selfSignedCertificate(dir: string, days: number): { key: string; cert: string } {
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', String(days),
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
}
