// The extension repository: every publisher, its extension types and their signed versions, as
// the control plane's repository holds them. Machines install only what is here.
import type { PackageMetadata } from '@tether/protocol/extension-package';
import { bytes } from '../../logic/format.js';
import type { ArmList } from '../api.js';
import { usePortal } from '../context.js';
import { useLoad } from '../use-load.js';
import { ErrorMessage, Loading, Section } from '../widgets.js';

export const REPOSITORY_API_VERSION = '2024-07-10';

/** Packages grouped by publisher, then type; the API lists them by name, newest version first. */
function grouped(
  packages: readonly PackageMetadata[],
): Map<string, Map<string, PackageMetadata[]>> {
  const publishers = new Map<string, Map<string, PackageMetadata[]>>();
  for (const p of packages) {
    const types = publishers.get(p.publisher) ?? new Map<string, PackageMetadata[]>();
    publishers.set(p.publisher, types);
    types.set(p.type, [...(types.get(p.type) ?? []), p]);
  }
  return publishers;
}

export function RepositoryPage() {
  const { api } = usePortal();
  const packages = useLoad(
    () =>
      api.get<ArmList<PackageMetadata>>(
        `/providers/Tether.Extensions/packages?api-version=${REPOSITORY_API_VERSION}`,
      ),
    [],
  );
  const publishers = grouped(packages.data?.value ?? []);
  return (
    <>
      <h1>Extension repository</h1>
      <p class="muted">
        The signed extension packages this control plane holds. A machine installs an extension only
        from here, and only a version published here; publishing needs the
        Tether.Extensions/packages/write action at the tenant root (tether extension publish).
      </p>
      <Loading loading={packages.loading} />
      <ErrorMessage error={packages.error} />
      {packages.data !== undefined && publishers.size === 0 && <p>No package is published yet.</p>}
      {[...publishers].map(([publisher, types]) => (
        <Section title={publisher} id={`publisher-${publisher}`} key={publisher}>
          {[...types].map(([type, versions]) => (
            <div key={type} data-extension-type={`${publisher}/${type}`}>
              <h3>
                {type}{' '}
                <span class="muted">
                  ({versions.length === 1 ? '1 version' : `${versions.length} versions`})
                </span>
              </h3>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Version</th>
                    <th scope="col">Published</th>
                    <th scope="col">By</th>
                    <th scope="col">Size</th>
                    <th scope="col">SHA-256</th>
                  </tr>
                </thead>
                <tbody>
                  {versions.map((v) => (
                    <tr key={v.version}>
                      <td>{v.version}</td>
                      <td>{v.publishedAt.slice(0, 19).replace('T', ' ')} UTC</td>
                      <td title={v.publishedBy}>{v.publishedByDisplayName ?? v.publishedBy}</td>
                      <td>{bytes(v.size)}</td>
                      <td title={v.sha256}>
                        <code>{v.sha256.slice(0, 16)}…</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ))}
        </Section>
      ))}
    </>
  );
}
