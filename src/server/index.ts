// Public surface of the dashboard server.
export { startServer, defaultWebRoot, MAX_BODY_BYTES, type ServerOptions, type ServerHandle } from './server.js';
export { reportBundle } from './data.js';
export type * from './wire.js';
