/** Wires a SerialLink to MemoryTransports with a FakeMcu on each, on a ManualClock. */
import { ManualClock } from '../../clock.js';
import { MemoryTransport } from '../memory-transport.js';
import { SerialLink } from '../serial-link.js';
import type { ProtocolErrorEvent, SerialLinkOptions } from '../serial-link-types.js';
import { FakeMcu, type FakeMcuOptions } from './fake-mcu.js';
import { testProfile } from './profile-fixture.js';

export interface HarnessOptions {
  mcu?: Partial<FakeMcuOptions>;
  link?: Partial<SerialLinkOptions>;
  /** Called for every new fake MCU (one per open), e.g. to make it mute. */
  onMcu?: (mcu: FakeMcu, index: number) => void;
  /** open() of the transport with this index fails (device absent). */
  failOpen?: (index: number) => boolean;
}

export function last<T>(arr: readonly T[]): T {
  const v = arr[arr.length - 1];
  if (v === undefined) throw new Error('empty array');
  return v;
}

export function linkHarness(opts: HarnessOptions = {}) {
  const clock = new ManualClock();
  const profile = testProfile();
  const transports: MemoryTransport[] = [];
  const mcus: FakeMcu[] = [];
  const link = new SerialLink({
    path: '/dev/ttyFAKE0', profile, clock,
    software: { major: 0, minor: 1, patch: 0 },
    random: () => 0.5,
    backoff: { initialMs: 100, maxMs: 1600, jitter: 0.5 },
    transportFactory: (path, baud) => {
      const i = transports.length;
      const t = new MemoryTransport(path, baud, opts.failOpen?.(i) ? { openError: new Error(`ENOENT: no such file ${path}`) } : {});
      const mcu = new FakeMcu(t, clock, { profileId: profile.id, jointCount: profile.joints.length, ...opts.mcu });
      transports.push(t);
      mcus.push(mcu);
      opts.onMcu?.(mcu, i);
      return t;
    },
    ...opts.link,
  });
  const states: string[] = [];
  link.on('state-change', (e) => states.push(e.to));
  const errors: ProtocolErrorEvent[] = [];
  link.on('protocol-error', (e) => errors.push(e));
  return { clock, profile, link, transports, mcus, states, errors, mcu: () => last(mcus), transport: () => last(transports) };
}
