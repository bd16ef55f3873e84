/** Node arguments that run a .ts entry point from the sources (the transpiling hooks the demo's tests use). */
const HOOKS = new URL('../../edge/decoder/worker-ts-hooks.mjs', import.meta.url).href;

export const TS_IMPORT_ARGS: readonly string[] = ['--import', `data:text/javascript,import{register}from"node:module";register(${JSON.stringify(HOOKS)})`];
