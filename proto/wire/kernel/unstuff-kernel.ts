/**
 * Typed access to the WebAssembly unstuffing kernel (unstuff.wat): one instance per decoder, with
 * its own memory, fed through an input window.
 */
import { CRC_TABLES } from '../crc32c.js';
import { UNSTUFF_WASM_BASE64 } from './unstuff-wasm.js';

export const KERNEL_TABLES = 0;
export const KERNEL_PACKET = 8192;
export const KERNEL_PACKET_CAPACITY = 8192;
export const KERNEL_INPUT = 16384;
export const KERNEL_INPUT_CAPACITY = 65536;

/** next() results: (n << 3) | status, n the packet length for OK, else the segment's length; or NEED_INPUT. */
export const KernelStatus = { NEED_INPUT: 0, OK: 1, COBS: 2, SHORT: 3, OVERSIZED: 4, CRC: 5, EMPTY: 6 } as const;

// The ES2023 lib and @types/node 20 do not declare WebAssembly; these are the few parts used here.
interface WasmModule { readonly __brand: 'WebAssembly.Module' }
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface KernelExports {
  memory: { buffer: ArrayBuffer };
  setLimit(limit: number): void;
  packetLength(): number;
  reset(): void;
  feed(len: number): void;
  next(): number;
  crc(ptr: number, len: number): number;
}

let compiled: WasmModule | null = null;

export interface UnstuffKernel {
  readonly exports: KernelExports;
  /** All of the kernel's memory. */
  readonly memory: Uint8Array;
  /** The packet area: a decoded packet starts at offset 0. */
  readonly packet: Uint8Array;
  readonly packetView: DataView;
}

export function createUnstuffKernel(maxPacket: number): UnstuffKernel {
  if (!Number.isInteger(maxPacket) || maxPacket < 12 || maxPacket > KERNEL_PACKET_CAPACITY) {
    throw new RangeError(`maxPacket=${maxPacket} is outside 12..${KERNEL_PACKET_CAPACITY}`);
  }
  compiled ??= new wasm.Module(Buffer.from(UNSTUFF_WASM_BASE64, 'base64'));
  const exports = new wasm.Instance(compiled, {}).exports as KernelExports;
  const buffer = exports.memory.buffer;
  new Int32Array(buffer, KERNEL_TABLES, CRC_TABLES.length).set(CRC_TABLES);
  exports.setLimit(maxPacket);
  return {
    exports,
    memory: new Uint8Array(buffer),
    packet: new Uint8Array(buffer, KERNEL_PACKET, maxPacket),
    packetView: new DataView(buffer, KERNEL_PACKET, maxPacket),
  };
}
