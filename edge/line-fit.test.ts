/** The daemon's configuration against its line: refused with the keys and numbers, fitted, or shed. */
import { describe, expect, it } from 'vitest';
import { parseEdgeConfig } from './config.js';
import { lineFitOf } from './line-fit.js';

const config = (serial: object, control: object = {}, profile = 'arm6-gripper'): ReturnType<typeof parseEdgeConfig> =>
  parseEdgeConfig({ robot: { id: 'r1', profile }, serial: { path: '/dev/ttyUSB0', ...serial }, control }, 'test');

describe('lineFitOf', () => {
  it('passes the built-in profiles at their own baud rates and STATE rates, paced to baud / 10', () => {
    for (const p of ['arm6-gripper', 'quadruped12']) {
      const f = lineFitOf(config({}, {}, p));
      expect(f.refusal, p).toBeNull();
      expect(f.commandRateHz).toBe(200);
      expect(f.warnings).toEqual([]);
    }
    expect(lineFitOf(config({}, {}, 'quadruped12')).bytesPerSecond).toBe(400_000);
  });

  it('refuses 115200 baud with the profile STATE rate and 200 Hz commands, naming every key and value', () => {
    const f = lineFitOf(config({ baudRate: 115_200 }));
    expect(f.refusal).toMatch(/MCU → host needs 150520 bytes\/s .*STATE is 150 bytes at profile arm6-gripper serial\.stateRateHz=1000.* serial\.baudRate=115200 carries 11520 bytes\/s/);
    expect(f.refusal).toMatch(/set serial\.stateRateHz to 65 or less, or raise serial\.baudRate/);
    expect(f.refusal).toMatch(/host → MCU needs 20760 bytes\/s .*control\.rateHz=200.*lower control\.rateHz to 98 or less/);
    expect(f.refusal).toMatch(/set serial\.lineOverload to "fit-command-rate" or "shed"/);
  });

  it('fits the command rate with lineOverload "fit-command-rate", and warns', () => {
    const f = lineFitOf(config({ baudRate: 115_200, stateRateHz: 50, lineOverload: 'fit-command-rate' }, {}, 'quadruped12'));
    expect(f.refusal).toBeNull();
    expect(f.commandRateHz).toBe(61);
    expect(f.warnings.join()).toMatch(/lowered to 61 Hz/);
  });

  it('runs the configured rate with lineOverload "shed", warning that COMMANDs will be shed, but never sheds STATE', () => {
    const f = lineFitOf(config({ baudRate: 115_200, stateRateHz: 50, lineOverload: 'shed' }));
    expect(f.refusal).toBeNull();
    expect(f.commandRateHz).toBe(200);
    expect(f.warnings.join()).toMatch(/COMMANDs that do not fit are shed/);
    expect(lineFitOf(config({ baudRate: 115_200, lineOverload: 'shed' })).refusal).toMatch(/MCU → host/);
  });

  it('does not check or pace a USB CDC line', () => {
    const f = lineFitOf(config({ baudRate: 115_200, usbCdc: true }));
    expect(f.refusal).toBeNull();
    expect(f.bytesPerSecond).toBeNull();
  });

  it('names a bad lineOverload value', () => {
    expect(() => config({ lineOverload: 'drop' })).toThrow(/serial\.lineOverload: .*"drop"/);
  });
});
