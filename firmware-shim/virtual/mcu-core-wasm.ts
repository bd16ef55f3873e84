/**
 * Typed access to the C MCU core compiled to WebAssembly (firmware-shim/c, built into
 * mcu-wasm.ts by `npm run mcu-wasm`). One instance is one MCU: its own memory, core, decoder and
 * encoder. The module is compiled once per process; instances are cheap (128 KiB of memory each).
 */
import { MCU_WASM_BASE64 } from './mcu-wasm.js';

// The ES2023 lib and @types/node 20 do not declare WebAssembly; these are the few parts used here.
interface WasmModule { readonly __brand: 'WebAssembly.Module' }
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** What spinal_wasm.c exports; pointers are byte offsets into `memory`. */
export interface McuCoreExports {
  memory: { buffer: ArrayBuffer };
  sw_configure(jointCount: number, watchdogMs: number, stateRateHz: number, stopRampUs: number, faultCategory: number, buttonCategory: number): void;
  sw_set_hello(fwMajor: number, fwMinor: number, fwPatch: number, capabilities: number, deviceId: number): void;
  sw_profile_id_ptr(): number;
  sw_set_hard_limit(joint: number, posMin: number, posMax: number, velMax: number, currentMax: number): void;
  sw_boot(nowUs: number, stateFlags: number): void;
  /** Bit 0: drive output changed. */
  sw_receive(len: number, rxUs: number, nowUs: number): number;
  /** Bit 0: drive output changed; bit 1: a STATE is due. */
  sw_tick(nowUs: number): number;
  sw_send_state(): void;
  sw_set_button(pressed: number, nowUs: number): number;
  sw_set_faults(faults: number, jointFaultMask: number, nowUs: number): number;
  sw_rx_ptr(): number;
  sw_rx_capacity(): number;
  sw_tx_ptr(): number;
  sw_rx_counters_ptr(): number;
  sw_state_position_ptr(): number;
  sw_state_velocity_ptr(): number;
  sw_state_current_ptr(): number;
  sw_state_accel_ptr(): number;
  sw_state_gyro_ptr(): number;
  sw_state_quat_ptr(): number;
  sw_state_set_imu_sample(n: number): void;
  sw_out_enabled(): number;
  sw_out_mode(): number;
  sw_out_ramp_scale(): number;
  sw_out_position_ptr(): number;
  sw_out_velocity_ptr(): number;
  sw_out_feedforward_ptr(): number;
  sw_status(): number;
  sw_watchdog_ms(): number;
  sw_state_rate_hz(): number;
  sw_cmd_joint_count(): number;
  sw_cmd_mode(): number;
  sw_cmd_position_ptr(): number;
  sw_cmd_velocity_ptr(): number;
  sw_cmd_feedforward_ptr(): number;
}

/** What the module imports: called synchronously from inside the export being run. */
export interface McuCoreImports {
  /** A frame of `len` bytes is at sw_tx_ptr(); it is overwritten by the next one. */
  frameOut(len: number, type: number): void;
  /** A core event (spinal_mcu_event_t flattened) or a glue event (SW_EVENT_*). */
  event(kind: number, msgType: number, result: number, category: number, source: number, reason: number, flag: number): void;
  /** RESET bit 1: clear the drives' faults; return the fault bits still active. */
  resetFaults(): number;
}

/** spinal_mcu_event_t kinds, and the glue's own (spinal_wasm.c). */
export const CoreEvent = { COMMAND: 1, STOP: 2, WATCHDOG: 3, RESET: 4, BODY_ERROR: 5, RX_ERROR: 16, FRAME: 17 } as const;
/** spinal_drive_t.mode. */
export const DriveMode = { DISABLE: 0, HOLD: 1, POSITION: 2, VELOCITY: 3, CURRENT: 4, RAMP_DOWN: 5 } as const;
export const OUT_CHANGED = 1;
export const STATE_DUE = 2;

let compiled: WasmModule | null = null;

export function instantiateMcuCore(imports: McuCoreImports): McuCoreExports {
  compiled ??= new wasm.Module(Buffer.from(MCU_WASM_BASE64, 'base64'));
  const instance = new wasm.Instance(compiled, {
    env: {
      frame_out: (len: number, type: number) => imports.frameOut(len, type),
      event: imports.event,
      reset_faults: () => imports.resetFaults(),
    },
  });
  return instance.exports as McuCoreExports;
}
