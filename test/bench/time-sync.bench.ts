/**
 * Time sync residual error: the edge maps each STATE's MCU timestamp to host time through its
 * estimate of offset and drift; the virtual firmware's clock model (offset, 40 ppm drift, a 32-bit
 * wrap a few seconds in) gives the true host time of the same instant.
 */
import { stats, type BenchResult, type Scenario } from './harness.js';
import { openBenchRig, sleep } from './rig.js';
import { hostNowUs } from '../../firmware-shim/virtual/virtual-robot.js';

const TWO_POW_32 = 4294967296;
const RUN_MS = 8000;

export const scenario: Scenario = {
  name: 'time-sync',
  description: 'residual of MCU→host time mapping against the simulated clock truth',
  async run(): Promise<BenchResult> {
    const rig = await openBenchRig('arm6-gripper', 1000);
    const { link, robot } = rig;
    const residuals: number[] = [];
    let unsynced = 0;
    link.on('state', (ev) => {
      if (!ev.synced) { unsynced++; return; }
      const clock = robot.mcu.clock;
      // The MCU instant this frame was stamped at, unwrapped on the firmware's own scale.
      const mcu32 = ev.mcuTimeUs % TWO_POW_32;
      const nowUnwrapped = clock.unwrapped(hostNowUs());
      const k = Math.round((nowUnwrapped - mcu32) / TWO_POW_32);
      const truthHostUs = clock.hostAt(mcu32 + k * TWO_POW_32);
      residuals.push(ev.hostTimeUs - truthHostUs);
    });
    await sleep(RUN_MS);
    const ts = link.health().timeSync;
    await rig.dispose();
    const abs = stats(residuals.map(Math.abs));
    const signed = stats(residuals);
    return {
      scenario: 'time-sync',
      title: `MCU → host time mapping over ${RUN_MS / 1000} s of STATE at 1 kHz (drift ${robot.mcu.clock.driftPpm} ppm, 32-bit wrap crossed)`,
      columns: ['measure', 'n', 'p50 µs', 'p99 µs', 'max µs'],
      rows: [
        ['|residual|', abs.n, abs.median, abs.p99, abs.max],
        ['residual (signed)', signed.n, signed.median, signed.p99, signed.max],
      ],
      summary: { 'p50 |residual| µs': abs.median, 'p99 |residual| µs': abs.p99, 'estimated drift ppm': ts.driftPpm, 'true drift ppm': robot.mcu.clock.driftPpm, 'frames before lock': unsynced },
      notes: ['the firmware stamps each STATE at its sample instant; the residual is the edge\'s mapped host time minus the true host time of that instant'],
    };
  },
};
