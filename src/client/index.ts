/** The Engine API client: `new Client({ host })`, typed calls, raw requests, stream decoding. */
export * from './client.js';
export * from './host.js';
export * from './jsonstream.js';
export * from './stdcopy.js';
export * from './events.js';
export type * from './types.js';
// reference and platform helpers the CLI needs (it may import only the client and lib)
export { familiarName, familiarString, fullName, fullString, parseNormalized, withDefaultTag, type Reference } from '../oci/reference.js';
export { hostPlatform, parsePlatform, formatPlatform, type Platform } from '../oci/platform.js';
