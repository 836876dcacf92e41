// Errors the store raises before any query runs: a bad location, or a database another
// process holds.
import { TetherError } from '@tether/protocol';

export type StoreErrorCode = 'ERR_STORE_CONFIG' | 'ERR_STORE_IN_USE';

export class StoreError extends TetherError<StoreErrorCode> {}
