export * from './brain-proto.js';
export * from './brain-messages.js';
export * from './brain-checks.js';
