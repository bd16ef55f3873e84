/**
 * `spinal dataset replay --into plant`: drives the simulated plant (hardware/) with a recording's
 * COMMANDs at their recorded times, starting from the first recorded joint positions, and compares
 * the plant's joint angles with the recorded STATE at every STATE time. It answers "does the plant
 * model track like the robot did under the same commands": a large error points at the model (or
 * at the robot: a stall, a collision, a slipping joint), not at the exporter.
 */
import { getProfile, Plant, ProfileError, type PlantMode } from '../../hardware/index.js';
import { Topic } from '../../proto/recording/channels.js';
import { DatasetError } from './dataset-error.js';
import { checkCommand, checkState } from './message-checks.js';
import { openRecording } from './recording-reader.js';

const MODES: readonly PlantMode[] = ['disable', 'hold', 'position', 'velocity', 'current'];

export interface JointTracking {
  joint: string;
  rmsRad: number;
  maxAbsRad: number;
}

export interface ReplayReport {
  recording: string;
  profile: string;
  commands: number;
  states: number;
  durationS: number;
  joints: JointTracking[];
}

export async function replayIntoPlant(path: string): Promise<ReplayReport> {
  const rec = await openRecording(path);
  try {
    const meta = rec.metadata;
    let profile;
    try {
      profile = getProfile(meta.profile);
    } catch (e) {
      if (e instanceof ProfileError) throw new DatasetError(`${path}: robot profile ${JSON.stringify(meta.profile)} has no plant model here (${e.message})`);
      throw e;
    }
    const n = meta.jointNames.length;
    if (profile.joints.length !== n) throw new DatasetError(`${path}: profile ${profile.id} has ${profile.joints.length} joints but the recording names ${n}`);
    let plant: Plant | null = null;
    let lastUs = 0;
    let firstUs = 0;
    let commands = 0;
    let states = 0;
    const sumSq = new Float64Array(n);
    const maxAbs = new Float64Array(n);
    const zeros = new Float64Array(n);
    let pending: { mode: PlantMode; target: number[]; velocity: number[] } | null = null;
    for await (const m of rec.messages([Topic.state, Topic.command])) {
      const w = { path, topic: m.topic, logTimeNs: m.logTimeNs };
      if (m.topic === Topic.command) {
        const c = checkCommand(w, m.message, n);
        const raw = m.message as { velocity?: unknown };
        const velocity = Array.isArray(raw.velocity) && raw.velocity.length === n ? (raw.velocity as number[]) : Array.from(zeros);
        const cmd = { mode: MODES[c.mode] ?? 'hold', target: c.target, velocity };
        if (plant === null) {
          pending = cmd;
          continue;
        }
        plant.step(Math.max(0, c.hostUs - lastUs) / 1e6);
        lastUs = Math.max(lastUs, c.hostUs);
        plant.setCommand(cmd.mode, cmd.target, cmd.velocity, zeros);
        commands++;
        continue;
      }
      const s = checkState(w, m.message, n);
      if (plant === null) {
        try {
          plant = new Plant(profile, { initialPose: s.position });
        } catch {
          plant = new Plant(profile); // a recorded pose outside the model's limits: start from home
        }
        if (pending !== null) plant.setCommand(pending.mode, pending.target, pending.velocity, zeros);
        lastUs = s.hostUs;
        firstUs = s.hostUs;
        continue;
      }
      plant.step(Math.max(0, s.hostUs - lastUs) / 1e6);
      lastUs = Math.max(lastUs, s.hostUs);
      states++;
      for (let j = 0; j < n; j++) {
        const e = (plant.truth.q[j] as number) - (s.position[j] as number);
        sumSq[j] = (sumSq[j] as number) + e * e;
        if (Math.abs(e) > (maxAbs[j] as number)) maxAbs[j] = Math.abs(e);
      }
    }
    if (states === 0) throw new DatasetError(`${path}: fewer than two ${Topic.state} messages: nothing to compare`);
    return {
      recording: path,
      profile: profile.id,
      commands,
      states,
      durationS: (lastUs - firstUs) / 1e6,
      joints: meta.jointNames.map((joint, j) => ({ joint, rmsRad: Math.sqrt((sumSq[j] as number) / states), maxAbsRad: maxAbs[j] as number })),
    };
  } finally {
    await rec.close();
  }
}

export function renderReplay(r: ReplayReport): string {
  const lines = [`${r.recording}: ${r.commands} commands replayed into the ${r.profile} plant over ${r.durationS.toFixed(1)} s, compared at ${r.states} STATE times`, 'joint          rms (rad)   max |err| (rad)'];
  for (const j of r.joints) lines.push(`${j.joint.padEnd(14)} ${j.rmsRad.toFixed(5).padStart(9)}   ${j.maxAbsRad.toFixed(5).padStart(9)}`);
  return lines.join('\n');
}
