/**
 * A live text view of one robot for a terminal: link health, MCU status and every joint. Pure: it
 * renders a snapshot to lines, so it is tested without a terminal.
 */
import { Status, StateFlag, type StateMsg } from '../../proto/wire/index.js';
import { countsToRad, cpsToRadPerSec, type RobotProfile } from '../../hardware/index.js';
import type { LinkHealth } from '../serial/link-health.js';

export interface RobotViewSnapshot {
  robotId: string;
  profile: RobotProfile;
  path: string;
  health: LinkHealth;
  /** Latest STATE (a copy), or null before the first. */
  state: StateMsg | null;
  stateRateHz: number;
  firmware: string | null;
}

const STATUS_NAMES: [number, string][] = [
  [Status.ESTOP_LATCHED, 'ESTOP'], [Status.WATCHDOG_TRIPPED, 'WATCHDOG'], [Status.MOTORS_ENABLED, 'MOTORS-ON'],
  [Status.CONFIGURED, 'CONFIGURED'], [Status.STOPPING, 'STOPPING'], [Status.HOST_SEEN, 'HOST-SEEN'],
];

function num(v: number, width: number, digits: number): string {
  return (Number.isFinite(v) ? v.toFixed(digits) : String(v)).padStart(width);
}

export function renderRobotView(s: RobotViewSnapshot): string[] {
  const h = s.health;
  const d = h.decoder;
  const ts = h.timeSync;
  const lines = [
    `robot ${s.robotId}  profile ${s.profile.id}  port ${s.path}  firmware ${s.firmware ?? '-'}`,
    `link ${h.state.padEnd(11)} STATE ${num(s.stateRateHz, 6, 0)} Hz  frames ${d.frames}  lost ${d.seqLost}  crc ${d.crcErrors}  resyncs ${d.resyncs}  reconnects ${h.reconnects}`,
    `time sync ${ts.converged ? 'locked ' : 'waiting'}  offset ${num(ts.offsetUs / 1000, 10, 3)} ms  drift ${num(ts.driftPpm, 7, 1)} ppm  rtt ${num(ts.lastRttUs / 1000, 6, 2)} ms  residual ${num(ts.residualStdUs, 6, 1)} us`,
  ];
  const st = s.state;
  if (st === null) {
    lines.push('', 'waiting for STATE...');
    return lines;
  }
  const flags = STATUS_NAMES.filter(([bit]) => st.status & bit).map(([, n]) => n);
  lines.push(`mcu status ${flags.join(' ') || '-'}  faults 0x${st.faults.toString(16)}  joint faults 0x${st.jointFaultMask.toString(16)}`, '');
  lines.push(`${'joint'.padEnd(16)}${'deg'.padStart(10)}${'deg/s'.padStart(10)}${'A'.padStart(8)}${'counts'.padStart(12)}`);
  s.profile.joints.forEach((j, i) => {
    if (i >= st.jointCount) return;
    const rad = countsToRad(j, st.position[i] as number);
    const radS = cpsToRadPerSec(j, st.velocity[i] as number);
    lines.push(`${j.name.padEnd(16)}${num((rad * 180) / Math.PI, 10, 2)}${num((radS * 180) / Math.PI, 10, 1)}${num(st.current[i] as number, 8, 2)}${String(st.position[i]).padStart(12)}`);
  });
  if (st.flags & StateFlag.IMU) {
    const a = st.accel, g = st.gyro;
    lines.push('', `imu accel ${num(a[0] as number, 7, 2)} ${num(a[1] as number, 7, 2)} ${num(a[2] as number, 7, 2)} m/s2   gyro ${num(g[0] as number, 7, 3)} ${num(g[1] as number, 7, 3)} ${num(g[2] as number, 7, 3)} rad/s`);
  }
  if (st.flags & StateFlag.ORIENTATION) {
    const q = st.quat;
    lines.push(`orientation (w x y z) ${num(q[0] as number, 7, 4)} ${num(q[1] as number, 7, 4)} ${num(q[2] as number, 7, 4)} ${num(q[3] as number, 7, 4)}`);
  }
  return lines;
}
