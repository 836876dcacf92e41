// Reads PEM certificates named by a flag (the control plane's CA, a service principal's
// certificate), refusing anything else so a wrong file surfaces now rather than as a TLS error.
import { readFile } from 'node:fs/promises';
import { usageError } from './cli-error.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The PEM certificate blocks of the file (a bundle unless `single`), without other text. */
export async function readPemCertificates(
  path: string,
  source: string,
  single = false,
): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw usageError(
      `${source} '${path}' cannot be read: ${(error as Error).message}. Give the path of a PEM certificate file.`,
      source,
    );
  }
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw usageError(
      `${source} '${path}' holds no PEM certificate: expected '-----BEGIN CERTIFICATE-----' blocks.`,
      source,
    );
  }
  if (single && blocks.length > 1) {
    throw usageError(
      `${source} '${path}' holds ${blocks.length} certificates; give exactly one.`,
      source,
    );
  }
  const { X509Certificate } = await import('node:crypto');
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw usageError(
        `${source} '${path}' holds a certificate that cannot be parsed: ${(error as Error).message}.`,
        source,
      );
    }
  }
  return `${blocks.join('\n')}\n`;
}
