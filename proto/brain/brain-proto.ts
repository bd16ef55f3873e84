/**
 * Loads brain.proto for grpc-js, from the TypeScript sources (Vitest) and from the compiled dist/
 * alike. The .proto is not copied into dist/: it is looked up next to this module first, then at
 * the repository root's proto/brain/brain.proto (found by walking up to the nearest package.json).
 *
 * Decoding conventions (what the message types of brain-messages.ts describe): field names in
 * lowerCamelCase, 64-bit integers as JS numbers (sequence numbers, plan ids and microsecond
 * timestamps stay far below 2^53), enums as their names, bytes as Buffer, scalar defaults filled
 * in, and each oneof's set member named by a virtual field (`msg: 'hello'`).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';

export const BRAIN_PROTO_FILE = 'brain.proto';
export const BRAIN_PACKAGE = 'spinal.brain.v1';
export const BRAIN_SERVICE = `${BRAIN_PACKAGE}.Brain`;
export const OPERATOR_SERVICE = `${BRAIN_PACKAGE}.Operator`;

export const BRAIN_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

/** Where brain.proto is: beside this module, else <repo root>/proto/brain/brain.proto. */
export function brainProtoPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, BRAIN_PROTO_FILE);
  if (existsSync(beside)) return beside;
  let dir = here;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) {
      const atRoot = join(dir, 'proto', 'brain', BRAIN_PROTO_FILE);
      if (existsSync(atRoot)) return atRoot;
    }
    const up = resolve(dir, '..');
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`${BRAIN_PROTO_FILE} not found beside ${here} nor under a repository root above it`);
}

let cached: protoLoader.PackageDefinition | undefined;

/** The package definition of brain.proto (loaded once per process). */
export function loadBrainPackageDefinition(): protoLoader.PackageDefinition {
  cached ??= protoLoader.loadSync(brainProtoPath(), BRAIN_LOADER_OPTIONS);
  return cached;
}

/** The service definitions to pass to grpc.Server#addService or grpc.makeClientConstructor. */
export function brainServiceDefinitions(): { brain: protoLoader.ServiceDefinition; operator: protoLoader.ServiceDefinition } {
  const def = loadBrainPackageDefinition();
  return {
    brain: def[BRAIN_SERVICE] as protoLoader.ServiceDefinition,
    operator: def[OPERATOR_SERVICE] as protoLoader.ServiceDefinition,
  };
}
