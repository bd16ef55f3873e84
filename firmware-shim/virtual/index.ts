/** Public API of the virtual firmware: a simulated MCU speaking the serial protocol on a PTY. */
export { runSim, describeSimOptions, type SimOptions } from './cli.js';
export { LineFaults, type LineFaultConfig, type LineFaultCounters } from './line-faults.js';
export { Mcu, MAX_CATCH_UP, MCU_LOOP_US, stopRampUs, type FrameSender, type McuCounters, type McuHooks, type McuOptions } from './mcu.js';
export { McuClock, DEFAULT_CLOCK_OFFSET_US, DEFAULT_DRIFT_PPM } from './mcu-clock.js';
export { openPty, updateSymlink, type PtyOptions, type PtyPair } from './pty.js';
export { TxQueue, type NonBlockingWriter, type TxCounters } from './tx-queue.js';
export { hostNowUs, VirtualRobot, type EstopEvent, type VirtualRobotEvents, type VirtualRobotOptions } from './virtual-robot.js';
