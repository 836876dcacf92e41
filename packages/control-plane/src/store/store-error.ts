// Errors the store raises before any query runs: a bad location, or a database another
// process holds; or a disk that could not make a commit durable; and those of backups.
import { TetherError } from '@tether/protocol';

export type StoreErrorCode =
  | 'ERR_STORE_CONFIG'
  | 'ERR_STORE_IN_USE'
  | 'ERR_STORE_IO'
  | 'ERR_BACKUP_DAMAGED'
  | 'ERR_BACKUP_FAILED';

export class StoreError extends TetherError<StoreErrorCode> {}
