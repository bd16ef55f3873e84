/** The supervisor's `mqtt-link-lost` stop source (the remote e-stop channel failed). */
import { describe, expect, it } from 'vitest';
import { EstopReason, EstopSource, Status } from '../../proto/wire/index.js';
import { ManualClock } from '../clock.js';
import { SafetySupervisor } from './safety-supervisor.js';
import type { SafetySupervisorOptions, TransitionEvent } from './safety-types.js';
import { RecordingActuator } from './testing/recording-actuator.js';


const OP = { id: 'alice', role: 'operator' };

function rig(opts: SafetySupervisorOptions = {}): { sup: SafetySupervisor; wire: RecordingActuator; clock: ManualClock; events: TransitionEvent[] } {
  const clock = new ManualClock();
  const wire = new RecordingActuator();
  const sup = new SafetySupervisor(wire, clock, opts);
  const events: TransitionEvent[] = [];
  sup.on('transition', (e) => events.push(e));
  sup.linkReady();
  sup.mcuStatus(Status.CONFIGURED, 0); // a STATE since the link came up: resume has a measured start
  sup.planReceived(clock.nowUs() + 10_000_000);
  return { sup, wire, clock, events };
}

describe('SafetySupervisor: MQTT link lost', () => {
  it('ACTIVE: latches ESTOP with the default category 2 (hold position, powered), reason MQTT_LINK, and names its source', () => {
    const r = rig();
    expect(r.sup.resume(OP)).toBe(true);
    r.sup.mqttLinkLost('down for 500 ms');
    expect(r.sup.state).toBe('ESTOP');
    expect(r.sup.motionAllowed).toBe(false);
    expect(r.sup.latchedCause).toBe('mqtt-link-lost');
    expect(r.wire.estops).toEqual([{ category: 2, source: EstopSource.HOST, reason: EstopReason.MQTT_LINK }]);
    expect(r.events.at(-1)).toMatchObject({ from: 'ACTIVE', to: 'ESTOP', cause: 'mqtt-link-lost', source: { kind: 'edge', id: 'mqtt-link' }, detail: 'down for 500 ms' });
  });

  it('the category is configurable', () => {
    const r = rig({ categories: { mqttLink: 0 } });
    expect(r.sup.resume(OP)).toBe(true);
    r.sup.mqttLinkLost('gone');
    expect(r.wire.estops).toEqual([{ category: 0, source: EstopSource.HOST, reason: EstopReason.MQTT_LINK }]);
  });

  it('HOLD (which a new plan would end by itself) latches too', () => {
    const r = rig();
    expect(r.sup.resume(OP)).toBe(true);
    r.sup.chunkExhausted();
    expect(r.sup.state).toBe('HOLD');
    r.sup.mqttLinkLost('gone');
    expect(r.sup.state).toBe('ESTOP');
    r.sup.chunkResumed();
    r.sup.planReceived(r.clock.nowUs() + 10_000_000);
    expect(r.sup.state).toBe('ESTOP');
  });

  it('stays stopped until an authorised reset, then needs a fresh plan and a resume', async () => {
    const r = rig();
    expect(r.sup.resume(OP)).toBe(true);
    r.sup.mqttLinkLost('gone');
    expect(r.sup.resume(OP)).toBe(false);
    expect(await r.sup.reset(OP)).toBe(true);
    expect(r.sup.state).toBe('IDLE');
    expect(r.sup.resume(OP)).toBe(false); // the plan predates the stop
    r.sup.planReceived(r.clock.nowUs() + 10_000_000);
    expect(r.sup.resume(OP)).toBe(true);
  });

  it('IDLE and BOOT: nothing moves and only a live resume can start motion, so nothing is latched or sent', () => {
    const boot = new SafetySupervisor(new RecordingActuator(), new ManualClock());
    boot.mqttLinkLost('gone');
    expect(boot.state).toBe('BOOT');
    const r = rig();
    r.sup.mqttLinkLost('gone');
    expect(r.sup.state).toBe('IDLE');
    expect(r.wire.estops).toEqual([]);
  });
});
