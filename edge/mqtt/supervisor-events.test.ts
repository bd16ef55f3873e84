import { describe, expect, it } from 'vitest';
import { SafetyEventSchema, type SafetyEventBody } from '../../proto/mqtt/index.js';
import { Status } from '../../proto/wire/index.js';
import { ManualClock } from '../clock.js';
import { SafetySupervisor } from '../safety/safety-supervisor.js';
import { RecordingActuator } from '../safety/testing/recording-actuator.js';
import { publishSupervisorEvents } from './supervisor-events.js';


/** Each body as the publisher would stamp it, checked against the wire schema. */
function stamped(e: SafetyEventBody): unknown {
  return SafetyEventSchema.parse({ v: 1, robot: 'r1', seq: 0, wallMs: 1, monoUs: 1, ...e });
}

describe('publishSupervisorEvents', () => {
  it('publishes the MCU latch, serial link changes and stops requested while latched, each valid on the wire, until unbound', () => {
    const sup = new SafetySupervisor(new RecordingActuator(), new ManualClock());
    const out: SafetyEventBody[] = [];
    const unbind = publishSupervisorEvents(sup, (e) => out.push(e));
    sup.linkChanged('HANDSHAKE', 'READY', 'MCU configured');
    sup.linkReady();
    sup.mcuStatus(Status.CONFIGURED, 0);
    sup.remoteEstop({ scope: 'robot', category: 0, malformed: false, operator: 'olga' });
    sup.remoteEstop({ scope: 'fleet', category: 1, malformed: false, operator: 'olga' });
    const kinds = out.map((e) => e.kind);
    expect(kinds).toContain('serial-link');
    expect(kinds).toContain('mcu-latch');
    expect(out.filter((e) => e.kind === 'stop-while-latched')).toEqual([{ kind: 'stop-while-latched', cause: 'fleet-estop', source: 'remote:olga' }]);
    for (const e of out) expect(() => stamped(e)).not.toThrow();
    unbind();
    const n = out.length;
    sup.linkChanged('READY', 'LOST', 'silence');
    expect(out).toHaveLength(n);
  });
});
