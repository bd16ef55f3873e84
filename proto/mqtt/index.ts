export * from './topics.js';
export * from './filters.js';
export * from './acl.js';
export * from './payloads.js';
export * from './brief.js';
export * from './decode.js';
export * from './accounts.js';
export * from './broker-token.js';
