/**
 * `@trackproject/integrations-client`: what a backend service needs to drive the integrations
 * worker through Temporal directly: workflow types, ids, messages, search attributes, the task
 * queue and the payload encryption (docs/payload-encryption.md). Subpaths `./definitions` and
 * `./searchAttributes` are workflow-safe; the rest loads `node:crypto` and the Temporal client.
 */
export * from './definitions';
export * from './searchAttributes';
export * from './priority';
export * from './workflows';
export * from './codec';
export * from './dataConverter';
export * from './client';
