// What every page gets: the API client, the session, the subscription shown and navigation.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api } from './api.js';
import type { Session } from './auth.js';

export interface PortalContext {
  api: Api;
  session: Session;
  subscriptionId: string;
  navigate: (path: string) => void;
}

export const Portal = createContext<PortalContext | undefined>(undefined);

export function usePortal(): PortalContext {
  const context = useContext(Portal);
  if (context === undefined) throw new Error('usePortal outside the portal');
  return context;
}
