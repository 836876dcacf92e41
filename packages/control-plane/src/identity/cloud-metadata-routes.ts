// `GET /metadata/endpoints`: the cloud description Azure Stack serves, from which
// `az cloud register --endpoint-resource-manager URL` derives sign-in, audience and Graph.
import type { RouteSpec } from '../api/route-spec.js';
import { ADFS_AUTHORITY_PATH } from './discovery-routes.js';
import type { IdentityEndpoints } from './identity-endpoints.js';

/**
 * 2015-01-01 answers one object (what `az cloud register` reads); the later versions answer
 * a list of clouds (what the CLI's `ARM_CLOUD_METADATA_URL` reads).
 */
export const CLOUD_METADATA_API_VERSIONS = [
  '2015-01-01',
  '2019-05-01',
  '2020-06-01',
  '2022-09-01',
] as const;

/** The name the list versions give this installation's cloud. */
export const CLOUD_NAME = 'Tether';

export function cloudMetadataRoutes(endpoints: IdentityEndpoints): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/metadata/endpoints',
      access: { kind: 'public' },
      apiVersions: CLOUD_METADATA_API_VERSIONS,
      handler({ request, reply }) {
        void reply.header('cache-control', 'max-age=300');
        const version = (request.query as Record<string, unknown>)['api-version'];
        return Promise.resolve(
          version === '2015-01-01' ? legacyMetadata(endpoints) : [cloudMetadata(endpoints)],
        );
      },
    },
  ];
}

/** Every audience is this server: tokens for Resource Manager and for Graph are the same. */
function legacyMetadata(endpoints: IdentityEndpoints) {
  const base = `${endpoints.publicUrl}/`;
  return {
    galleryEndpoint: base,
    graphEndpoint: base,
    portalEndpoint: base,
    authentication: {
      loginEndpoint: `${endpoints.publicUrl}${ADFS_AUTHORITY_PATH}`,
      audiences: [base],
    },
  };
}

function cloudMetadata(endpoints: IdentityEndpoints) {
  const base = `${endpoints.publicUrl}/`;
  return {
    name: CLOUD_NAME,
    resourceManager: base,
    portal: base,
    gallery: base,
    graph: base,
    graphAudience: base,
    microsoftGraphResourceId: base,
    authentication: {
      loginEndpoint: `${endpoints.publicUrl}${ADFS_AUTHORITY_PATH}`,
      audiences: [base],
      tenant: endpoints.tenantId,
      identityProvider: 'ADFS',
    },
    suffixes: {},
  };
}
