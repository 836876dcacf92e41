// The control plane's CA certificate as root's services and commands trust it: only a file that
// only root can change, in folders only root can change. The unprivileged himds account reads
// the same file but must never be able to swap it (it would then choose what root runs).
import { closeSync, constants, existsSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { untrustedPathProblem } from '../config/trusted-path.js';
import { AgentError } from '../errors.js';
import { trustedOwnerUid } from '../extensions/host/trusted-owner.js';
import type { AgentPaths } from '../paths.js';

const MAX_BYTES = 1024 * 1024;

/**
 * The CA's PEM text, or undefined when the machine was connected without `--ca-cert` (the
 * system trust store applies). Throws ERR_CA_UNTRUSTED, naming the file and the fix, when the
 * file could have been changed by anyone but root.
 */
export function readTrustedCa(paths: AgentPaths): string | undefined {
  const file = paths.caCert;
  if (!existsSync(file)) {
    if (existsSync(paths.legacyCaCert)) throw legacyCaError(paths);
    return undefined;
  }
  const problem = untrustedPathProblem(file, trustedOwnerUid(paths));
  if (problem !== undefined) {
    throw new AgentError(
      'ERR_CA_UNTRUSTED',
      `Refusing to trust the control plane's CA certificate: ${problem}. Only root may be able to change it; ` +
        `check that it is your control plane's CA, then 'sudo chown root:root ${file} && sudo chmod 644 ${file}' ` +
        '(and the same for any folder named above).',
      { target: file },
    );
  }
  // O_NOFOLLOW and fstat: what is read is the file that was checked, not a link swapped in since.
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.size > MAX_BYTES) {
      throw new AgentError(
        'ERR_CA_UNTRUSTED',
        `${file} is not a regular file of at most ${MAX_BYTES} bytes; reconnect the machine with 'sudo azcmagent connect --ca-cert …'.`,
        { target: file },
      );
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

function legacyCaError(paths: AgentPaths): AgentError {
  const { legacyCaCert, caCert } = paths;
  return new AgentError(
    'ERR_CA_UNTRUSTED',
    `The control plane's CA certificate is at ${legacyCaCert}, in a folder the himds account can write, so it is no longer trusted. ` +
      `If it is your control plane's CA, move it where only root can change it: ` +
      `'sudo install -m 644 -o root -g root ${legacyCaCert} ${caCert} && sudo rm ${legacyCaCert}'.`,
    { target: legacyCaCert },
  );
}
