/**
 * Test and benchmark helper: drives a simulated Plant at a fixed rate and turns each SensorReading
 * into the STATE message the virtual firmware would send (same units, same flags), with MCU and
 * host times in µs of simulated time. No real time is involved.
 */
import { newSensorReading, Plant, type PlantOptions, type RobotProfile, type SensorReading } from '../../../hardware/index.js';
import { newState, StateFlag, Status, type StateMsg } from '../../../proto/wire/index.js';
import type { EstimatorInput } from '../state-estimator.js';

export class PlantFeed {
  readonly plant: Plant;
  readonly reading: SensorReading;
  /** Reused for every sample, like SerialLink's StateEvent. */
  readonly input: EstimatorInput & { msg: StateMsg };
  readonly periodUs: number;
  /** Host clock = MCU clock + this offset (what a converged time sync maps). */
  readonly hostOffsetUs: number;

  constructor(readonly profile: RobotProfile, opts: PlantOptions & { rateHz?: number; hostOffsetUs?: number } = {}) {
    this.plant = new Plant(profile, opts);
    this.reading = newSensorReading(profile.joints.length);
    this.periodUs = 1e6 / (opts.rateHz ?? 1000);
    this.hostOffsetUs = opts.hostOffsetUs ?? 5_000_000;
    this.input = { msg: newState(), mcuTimeUs: 0, hostTimeUs: 0, synced: true };
    this.plant.setCommand('hold', [], [], []);
  }

  /** Advances the plant by one period and fills `input` from a fresh sense(). */
  step(): EstimatorInput {
    this.plant.step(this.periodUs * 1e-6);
    this.sample();
    return this.input;
  }

  /** Fills `input` from the plant's present state (no time step). */
  sample(): EstimatorInput {
    const p = this.plant, r = this.reading, m = this.input.msg, n = p.jointCount;
    p.sense(r);
    m.jointCount = n;
    const imu = this.profile.imu;
    m.flags = (imu !== null ? StateFlag.IMU : 0) | (imu?.fusedOrientation === true ? StateFlag.ORIENTATION : 0);
    m.status = Status.CONFIGURED | Status.HOST_SEEN | Status.MOTORS_ENABLED;
    const bits = p.faultBits();
    m.faults = bits.faults;
    m.jointFaultMask = bits.jointFaultMask;
    for (let j = 0; j < n; j++) {
      m.position[j] = r.encoderCounts[j] as number;
      m.velocity[j] = r.velocityCps[j] as number;
      m.current[j] = r.currentA[j] as number;
    }
    m.accel.set(r.accel);
    m.gyro.set(r.gyro);
    m.quat.set(r.quat);
    const t = Math.round(p.truth.timeS * 1e6);
    this.input.mcuTimeUs = t;
    this.input.hostTimeUs = t + this.hostOffsetUs;
    return this.input;
  }
}
