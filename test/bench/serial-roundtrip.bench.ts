/**
 * COMMAND → STATE round trip over the PTY: the edge sends a COMMAND that toggles the motors
 * (DISABLE ↔ HOLD) and waits for the first STATE whose MOTORS_ENABLED bit shows it. The figure
 * includes the wait for the firmware's next STATE, so it is reported at 1 kHz and 500 Hz.
 */
import { CommandMode, newCommand, Status } from '../../proto/wire/index.js';
import { nowNs, stats, type BenchResult, type Scenario } from './harness.js';
import { openBenchRig, sleep } from './rig.js';

const TRIPS = 400;

async function measure(stateRateHz: number): Promise<number[]> {
  const rig = await openBenchRig('arm6-gripper', stateRateHz);
  const { link } = rig;
  const cmd = newCommand();
  cmd.jointCount = link.profile.joints.length;
  let want = -1;
  let sentAt = 0;
  let done: (() => void) | null = null;
  const samples: number[] = [];
  link.on('state', (ev) => {
    if (want < 0 || done === null) return;
    if (((ev.msg.status & Status.MOTORS_ENABLED) !== 0) === (want === 1)) {
      samples.push((nowNs() - sentAt) / 1e6);
      want = -1;
      const d = done;
      done = null;
      d();
    }
  });
  try {
    for (let i = 0; i < TRIPS + 10; i++) {
      const enable = i % 2 === 0;
      cmd.mode = enable ? CommandMode.HOLD : CommandMode.DISABLE;
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no STATE showing motors ${enable ? 'on' : 'off'} within 1 s`)), 1000);
        done = () => { clearTimeout(t); resolve(); };
        want = enable ? 1 : 0;
        sentAt = nowNs();
        if (!link.sendCommand(cmd)) reject(new Error(`COMMAND refused in link state ${link.state}`));
      });
      await sleep(2 + (i % 3)); // de-correlate from the STATE period
    }
  } finally {
    await rig.dispose();
  }
  return samples.slice(10);
}

export const scenario: Scenario = {
  name: 'serial-roundtrip',
  description: 'COMMAND → STATE round trip over a PTY, virtual firmware ↔ SerialLink',
  async run(): Promise<BenchResult> {
    const rows: (string | number)[][] = [];
    const summary: Record<string, number> = {};
    for (const hz of [1000, 500]) {
      const s = stats(await measure(hz));
      rows.push([`STATE at ${hz} Hz`, s.n, s.median, s.p99, s.max]);
      summary[`p50 ms @${hz}Hz`] = s.median;
      summary[`p99 ms @${hz}Hz`] = s.p99;
    }
    return {
      scenario: 'serial-roundtrip',
      title: `COMMAND → STATE round trip over a pseudo-terminal, ${TRIPS} trips each`,
      columns: ['firmware STATE rate', 'n', 'p50 ms', 'p99 ms', 'max ms'],
      rows,
      summary,
      notes: ['includes the wait for the next STATE (up to one period) and the firmware loop\'s 1 ms wake interval'],
    };
  },
};
