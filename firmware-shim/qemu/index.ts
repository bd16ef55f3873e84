/** Public API of the QEMU firmware: the Cortex-M4F image of firmware-shim/c/ports/mps2-an386 under QEMU. */
export { qemuImageFor, qemuSimUnavailable, runQemuSim, type QemuSimOptions } from './cli.js';
export { findProgram, parseProbe, PROBE_ADDRESS, QemuRobot, qemuUnavailable, type McuProbe, type QemuRobotOptions, type SpawnProgram } from './qemu-robot.js';
export { Qmp, QmpError } from './qmp.js';
