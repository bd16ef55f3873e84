/** The daemon wires the real objects straight into RobotMqtt: this fails to compile (tsc) if they drift apart. */
import { describe, expect, it } from 'vitest';
import type { SafetySupervisor } from '../safety/safety-supervisor.js';
import type { SerialLink } from '../serial/serial-link.js';
import type { EstopSink, HeartbeatSink, ResetSink, ResumeSink, SafetyEventSource, WireStop } from './ports.js';

const wireFits = (link: SerialLink): WireStop => link;
const supervisorFits = (sup: SafetySupervisor): EstopSink & ResetSink & ResumeSink & SafetyEventSource & HeartbeatSink => sup;

describe('MQTT ports', () => {
  it('are satisfied by the serial link and the safety supervisor as they are (checked by tsc)', () => {
    expect([wireFits, supervisorFits].every((f) => typeof f === 'function')).toBe(true);
  });
});
