export * from './schema.js';
export * from './attributes.js';
export * from './graph-builder.js';
export * from './read-model.js';
