// What the portal's own server tells it at /config.json: where the API is and who it is.

export interface PortalConfig {
  apiUrl: string;
  tenantId: string;
  clientId: string;
  portalUrl: string;
  /** PEM of the CA that issued the API's certificate, when the server made it. */
  caCert?: string;
}

export async function loadConfig(): Promise<PortalConfig> {
  const response = await fetch('/config.json', { cache: 'no-store' });
  if (!response.ok)
    throw new Error(`The portal's configuration could not be read (${response.status}).`);
  return (await response.json()) as PortalConfig;
}
