// What the directory routes need from the server that mounts them.
import type { Clock } from '../clock.js';
import type { DirectoryService } from './directory-service.js';

export interface DirectoryRouteServices {
  directory: DirectoryService;
  clock: Clock;
  /** Base URL clients reach this server at; `@odata.nextLink`s are built on it. */
  publicUrl: string;
}
