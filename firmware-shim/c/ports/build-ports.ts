/**
 * Builds the firmware images of the ports (firmware-shim/c/ports/<board>) with Debian's
 * arm-none-eabi-gcc and newlib, and reports their sizes (arm-none-eabi-size). `npm run firmware`
 * builds every board for its profiles into firmware-shim/c/build/<board>/<profile>.elf; the QEMU
 * harness (firmware-shim/qemu) boots the mps2-an386 images from there.
 *
 * Each image is the unmodified shared core (src/*.c), the board-independent tick (common/app.c),
 * the port's files, and a header and source generated here from the robot profile: joint count,
 * rates, stop ramp, HELLO, the firmware's hard limits (the same numbers the virtual firmware gives
 * its core) and, for simulated boards, the plant model's constants.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Capability, StateFlag } from '../../../proto/wire/index.js';
import { countsPerRad, getProfile, listProfiles, type JointProfile, type RobotProfile } from '../../../hardware/index.js';
import { hardLimits, stopRampUs } from '../../virtual/mcu.js';

export interface Board {
  /** Folder under ports/. */
  name: string;
  /** Port sources, relative to firmware-shim/c. */
  sources: readonly string[];
  linkerScript: string;
  /** Simulated drives: the C plant model is linked and its constants generated. */
  plant: boolean;
  /** Profiles built by default. */
  profiles: readonly string[];
  /** Advertises a hardware e-stop input in HELLO. */
  hardwareEstop: boolean;
  /** The firmware's watchdog until a CONFIG sets one; default the profile's serial.watchdogMs. */
  bootWatchdogMs?: number;
}

const CORE = ['src/spinal_frame.c', 'src/spinal_msg.c', 'src/spinal_mcu.c', 'ports/common/app.c'];

export const BOARDS: readonly Board[] = [
  {
    name: 'mps2-an386',
    sources: ['ports/mps2-an386/startup.c', 'ports/mps2-an386/board.c', 'ports/common/plant.c'],
    linkerScript: 'ports/mps2-an386/mps2-an386.ld',
    plant: true,
    profiles: listProfiles(),
    hardwareEstop: true,
    // The host may feed the watchdog (HEARTBEAT) before its CONFIG has landed, so the boot value
    // covers the handshake; QEMU holds host bytes for hundreds of ms at times (README, QEMU's
    // timing limits), which tripped the profile's 100 ms there. CONFIG still sets the real one.
    bootWatchdogMs: 1500,
  },
  {
    name: 'stm32f446',
    sources: ['ports/stm32f446/startup.c', 'ports/stm32f446/main.c'],
    linkerScript: 'ports/stm32f446/stm32f446.ld',
    plant: false,
    profiles: ['arm6-gripper'],
    hardwareEstop: true,
  },
];

/** Cortex-M4F, hard float; warnings are errors (the task's bar for firmware code). */
export const ARM_CFLAGS = [
  '-mcpu=cortex-m4', '-mthumb', '-mfloat-abi=hard', '-mfpu=fpv4-sp-d16',
  '-std=c99', '-O2', '-g0', '-ffunction-sections', '-fdata-sections', '-fno-math-errno',
  '-Werror', '-Wall', '-Wextra', '-Wpedantic', '-Wconversion',
] as const;
export const ARM_LDFLAGS = ['-nostartfiles', '--specs=nano.specs', '--specs=nosys.specs', '-Wl,--gc-sections'] as const;

const HERE = dirname(fileURLToPath(import.meta.url));
/** firmware-shim/c in the source tree (this file runs from dist/firmware-shim/c/ports or from the sources). */
export function shimDir(): string {
  const fromDist = HERE.split(/[\\/]/).includes('dist');
  return fromDist ? resolve(HERE, '../../../../firmware-shim/c') : resolve(HERE, '..');
}
/** Where `npm run firmware` puts the images: firmware-shim/c/build/<board>/<profile>.elf. */
export function defaultImagePath(board: string, profile: string): string {
  return join(shimDir(), 'build', board, `${profile}.elf`);
}

/** `arm-none-eabi-gcc --version`'s first line, or null when the toolchain is missing. */
export function armToolchain(): string | null {
  try {
    return execFileSync('arm-none-eabi-gcc', ['--version'], { encoding: 'utf8', stdio: 'pipe' }).split('\n')[0]?.trim() ?? null;
  } catch {
    return null;
  }
}

const f32 = (x: number): string => {
  const s = Math.fround(x).toPrecision(9);
  return `${s.includes('.') || s.includes('e') ? s : `${s}.0`}f`;
};

function scaledJoint(j: JointProfile, scale: number): JointProfile {
  if (scale === 1) return j;
  const mid = (j.limits.positionMin + j.limits.positionMax) / 2;
  const half = ((j.limits.positionMax - j.limits.positionMin) / 2) * scale;
  return { ...j, limits: { ...j.limits, positionMin: mid - half, positionMax: mid + half } };
}

export interface ProfileSourceOptions {
  /** Shrinks each joint's position range around its middle in the firmware's hard limits (not in
   * the plant): a test image whose own limits are tighter than the host's. Default 1. */
  limitScale?: number;
  hardwareEstop?: boolean;
  /** HELLO.device_id. */
  deviceId?: number;
  /** See Board.bootWatchdogMs. */
  bootWatchdogMs?: number;
}

/** board_profile.h and board_profile.c for `profile`. */
export function profileSources(profile: RobotProfile, opts: ProfileSourceOptions = {}): { header: string; source: string } {
  const scale = opts.limitScale ?? 1;
  if (!(scale > 0 && scale <= 1)) throw new RangeError(`limitScale ${scale} must be in (0, 1]`);
  const n = profile.joints.length;
  const imu = profile.imu;
  const flags = (imu ? StateFlag.IMU : 0) | (imu?.fusedOrientation ? StateFlag.ORIENTATION : 0);
  const caps = ((imu ? Capability.IMU : 0) | (imu?.fusedOrientation ? Capability.FUSED_ORIENTATION : 0)
    | Capability.CURRENT_SENSE | Capability.VELOCITY_MODE | Capability.CURRENT_MODE | Capability.TIME_SYNC
    | (opts.hardwareEstop ? Capability.HARDWARE_ESTOP : 0)) >>> 0;
  const limits = profile.joints.map((j) => hardLimits(scaledJoint(j, scale)));
  const home = profile.poses['home'] ?? profile.joints.map(() => 0);
  const header = [
    `/* Generated by firmware-shim/c/ports/build-ports.ts from the profile "${profile.id}"; do not edit. */`,
    '#ifndef BOARD_PROFILE_H',
    '#define BOARD_PROFILE_H',
    '#include "app.h"',
    '#include "plant.h"',
    `#define BOARD_JOINTS ${n}u`,
    'extern const app_config_t board_app_config;',
    'extern const spinal_limits_t board_hard_limits[BOARD_JOINTS];',
    'extern const plant_joint_t board_joints[BOARD_JOINTS];',
    'extern const plant_imu_t board_imu;',
    '#endif',
    '',
  ].join('\n');
  const joints = profile.joints.map((j, i) => {
    const wn = 2 * Math.PI * j.servo.naturalFrequencyHz;
    const zeta = j.servo.dampingRatio;
    return `    { ${f32(j.encoder.direction * countsPerRad(j))}, ${j.encoder.zeroOffsetCounts}, ${j.encoder.singleTurn ? j.encoder.countsPerRev : 0}, `
      + `${f32(j.limits.positionMin)}, ${f32(j.limits.positionMax)}, ${f32(j.limits.velocityMax)}, ${f32(j.limits.accelerationMax)}, ${f32(j.limits.currentMax)}, `
      + `${f32(wn / (2 * zeta))}, ${f32(2 * zeta * wn)}, ${f32(home[i] ?? 0)} }, /* ${j.name} */`;
  });
  const source = [
    `/* Generated by firmware-shim/c/ports/build-ports.ts from the profile "${profile.id}"${scale !== 1 ? `, position limits scaled by ${scale}` : ''}; do not edit. */`,
    '#include "board_profile.h"',
    '',
    'const spinal_limits_t board_hard_limits[BOARD_JOINTS] = {',
    ...limits.map((l) => `    { ${l.posMin}, ${l.posMax}, ${f32(l.velMax)}, ${f32(l.currentMax)} },`),
    '};',
    '',
    'const app_config_t board_app_config = {',
    '    .mcu = {',
    `        .joint_count = ${n}u,`,
    `        .watchdog_ms = ${opts.bootWatchdogMs ?? profile.serial.watchdogMs}u,`,
    `        .state_rate_hz = ${profile.serial.stateRateHz}u,`,
    `        .stop_ramp_us = ${stopRampUs(profile)}u,`,
    '        .button_category = 0u,',
    '        .fault_category = 1u,',
    '        .hard_limits = board_hard_limits,',
    `        .hello = { .fw_major = ${profile.firmware.major}u, .fw_minor = ${profile.firmware.minor}u, .fw_patch = ${profile.firmware.patch}u,`,
    `                   .capabilities = 0x${caps.toString(16)}u, .profile_id = ${JSON.stringify(profile.id)}, .device_id = 0x${((opts.deviceId ?? 0x5ea1c0de) >>> 0).toString(16)}u },`,
    '    },',
    `    .state_flags = ${flags}u,`,
    '};',
    '',
    'const plant_joint_t board_joints[BOARD_JOINTS] = {',
    ...joints,
    '};',
    '',
    imu
      ? `const plant_imu_t board_imu = { true, ${imu.fusedOrientation}, ${f32(imu.accelNoiseStd)}, ${f32(imu.gyroNoiseStd)}, ${f32(imu.accelScale)}, `
        + `{ ${imu.gyroBias.map(f32).join(', ')} }, { ${imu.mount.map(f32).join(', ')} } };`
      : 'const plant_imu_t board_imu = { false, false, 0.0f, 0.0f, 1.0f, { 0.0f, 0.0f, 0.0f }, { 1.0f, 0.0f, 0.0f, 0.0f } };',
    '',
  ].join('\n');
  return { header, source };
}

export interface ImageSize {
  text: number;
  data: number;
  bss: number;
}

export interface BuiltImage {
  board: string;
  profile: string;
  elf: string;
  size: ImageSize;
}

export interface BuildOptions extends ProfileSourceOptions {
  board: Board;
  profile: string;
  /** The .elf to write (its folder also receives the generated profile files and objects). */
  out: string;
}

/** Compiles and links one image. Throws with the compiler's output (warnings are errors). */
export function buildImage(opts: BuildOptions): BuiltImage {
  const cDir = shimDir();
  const work = `${opts.out}.d`;
  mkdirSync(work, { recursive: true });
  const { header, source } = profileSources(getProfile(opts.profile), {
    hardwareEstop: opts.board.hardwareEstop,
    ...(opts.board.bootWatchdogMs !== undefined ? { bootWatchdogMs: opts.board.bootWatchdogMs } : {}),
    ...opts,
  });
  writeFileSync(join(work, 'board_profile.h'), header);
  writeFileSync(join(work, 'board_profile.c'), source);
  const includes = ['-Iinclude', '-Iports/common', `-Iports/${opts.board.name}`, `-I${work}`];
  const sources = [...CORE, ...opts.board.sources, join(work, 'board_profile.c')];
  try {
    execFileSync('arm-none-eabi-gcc', [
      ...ARM_CFLAGS, ...includes, ...sources, ...ARM_LDFLAGS, '-T', opts.board.linkerScript,
      `-Wl,-Map=${join(work, 'image.map')}`, '-o', opts.out,
    ], { cwd: cDir, stdio: 'pipe' });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`arm-none-eabi-gcc failed for ${opts.board.name}/${opts.profile}:\n${err.stderr?.toString() ?? err.message}`);
  }
  return { board: opts.board.name, profile: opts.profile, elf: opts.out, size: imageSize(opts.out) };
}

/** arm-none-eabi-size (Berkeley format) of an image. */
export function imageSize(elf: string): ImageSize {
  const out = execFileSync('arm-none-eabi-size', [elf], { encoding: 'utf8', stdio: 'pipe' });
  const row = out.trim().split('\n')[1]?.trim().split(/\s+/) ?? [];
  const [text, data, bss] = row.slice(0, 3).map(Number);
  if (text === undefined || data === undefined || bss === undefined || [text, data, bss].some(Number.isNaN)) throw new Error(`arm-none-eabi-size: cannot read ${JSON.stringify(out)}`);
  return { text, data, bss };
}

export function getBoard(name: string): Board {
  const b = BOARDS.find((x) => x.name === name);
  if (!b) throw new Error(`unknown board ${JSON.stringify(name)} (known: ${BOARDS.map((x) => x.name).join(', ')})`);
  return b;
}

/** Every board for its default profiles, into firmware-shim/c/build. */
export function buildAll(): BuiltImage[] {
  return BOARDS.flatMap((board) => board.profiles.map((profile) => buildImage({ board, profile, out: defaultImagePath(board.name, profile) })));
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] && resolve(process.argv[1]) === self) {
  const gcc = armToolchain();
  if (gcc === null) {
    console.error('firmware: arm-none-eabi-gcc is missing (Debian: gcc-arm-none-eabi libnewlib-arm-none-eabi)');
    process.exit(1);
  }
  try {
    const images = buildAll();
    console.log(`firmware: ${gcc}; flags ${ARM_CFLAGS.join(' ')}`);
    console.log(`${'board'.padEnd(12)}${'profile'.padEnd(15)}${'text'.padStart(8)}${'data'.padStart(7)}${'bss'.padStart(8)}  image`);
    for (const i of images) {
      console.log(`${i.board.padEnd(12)}${i.profile.padEnd(15)}${String(i.size.text).padStart(8)}${String(i.size.data).padStart(7)}${String(i.size.bss).padStart(8)}  ${i.elf}`);
    }
  } catch (e) {
    console.error(`firmware: ${(e as Error).message}`);
    process.exit(1);
  }
}
