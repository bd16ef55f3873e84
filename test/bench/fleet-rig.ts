/**
 * A whole fleet in one process, for the dashboard's browser tests and benchmarks: virtual firmware
 * on PTYs, one composed edge daemon per robot (as `spinal edge --config` builds it), the reference
 * brain serving the dashboard, and the embedded broker with TCP for robots and WebSocket for
 * browsers. Loopback and ephemeral ports only.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ReferenceBackend } from '../../cloud/backends/reference/reference-backend.js';
import { BrainServer } from '../../cloud/brain/brain-server.js';
import { DashboardServer } from '../../cloud/dashboard/dashboard-server.js';
import { DashboardUsers } from '../../cloud/dashboard/users.js';
import { parseEdgeConfig } from '../../edge/config.js';
import { startEdgeDaemon, type EdgeDaemon } from '../../edge/daemon.js';
import { EmbeddedBroker } from '../../edge/mqtt/broker/embedded-broker.js';
import { VirtualRobot } from '../../firmware-shim/virtual/virtual-robot.js';
import { waitFor } from '../e2e/link-harness.js';
import type { TestCerts } from '../e2e/tls-fixture.js';

export interface FleetRobot {
  id: string;
  profile: string;
  robot: VirtualRobot;
  daemon: EdgeDaemon;
}

export interface Account {
  name: string;
  password: string;
}

export interface FleetRig {
  fleet: string;
  broker: EmbeddedBroker;
  brain: BrainServer;
  dashboard: DashboardServer;
  robots: FleetRobot[];
  operator: Account;
  viewer: Account;
  /** Stops the broker (every client sees it go), waits `downMs`, starts it again on the same ports. */
  restartBroker(downMs: number): Promise<void>;
  close(): Promise<void>;
}

export interface FleetRigOptions {
  robots: number;
  /** Virtual firmware STATE rate; default 250 Hz (enough for the loop, light on two cores). */
  stateRateHz?: number;
  telemetryHz?: number;
  /** Serve the dashboard over HTTPS and the broker's WebSocket over wss:// with these certificates (robots stay on loopback TCP). */
  tls?: TestCerts;
  /** The dashboard's broker token lifetime (default 60 s). */
  brokerTokenTtlMs?: number;
}

const PROFILES = ['arm6-gripper', 'quadruped12'];

export async function startFleetRig(opts: FleetRigOptions): Promise<FleetRig> {
  const dir = mkdtempSync(join(tmpdir(), 'spinal-fleet-'));
  const fleet = 'lab';
  const ids = Array.from({ length: opts.robots }, (_, i) => `robot${i + 1}`);
  const operator = { name: 'olga', password: 'olga-secret' };
  const viewer = { name: 'vic', password: 'vic-secret' };
  const accounts = { fleet, robots: ids.map((id) => ({ id, password: `${id}-secret` })), operators: [operator], viewers: [viewer] };
  const robots: FleetRobot[] = [];
  let broker: EmbeddedBroker | null = null;
  let brain: BrainServer | null = null;
  let dashboard: DashboardServer | null = null;
  const close = async (): Promise<void> => {
    await dashboard?.close();
    for (const r of robots) await r.daemon.close();
    await brain?.stop();
    for (const r of robots) await r.robot.stop();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Browsers get broker tokens from the dashboard (never the password): one key for both.
    const tokenKey = randomBytes(32);
    const certs = opts.tls;
    const startBroker = (port: number, wsPort: number): Promise<EmbeddedBroker> => EmbeddedBroker.start({
      ...accounts, host: '127.0.0.1', port, ws: { port: wsPort }, tokenKey,
      ...(certs ? { tls: certs.server } : {}),
    });
    broker = await startBroker(0, 0);
    brain = await BrainServer.start({ host: '127.0.0.1', port: 0, tls: null, robots: ids, backend: new ReferenceBackend(), planValidityMs: 1500, drainTimeoutMs: 200 });
    dashboard = await DashboardServer.start({
      fleet, robots: ids, users: new DashboardUsers(accounts), mqttUrl: broker.wsUrl ?? '', brain,
      brokerTokens: { key: tokenKey, ...(opts.brokerTokenTtlMs !== undefined ? { ttlMs: opts.brokerTokenTtlMs } : {}), ...(certs ? { ca: certs.ca } : {}) },
      ...(certs ? { tls: certs.server } : {}),
    });
    for (const [i, id] of ids.entries()) {
      const profile = PROFILES[i % PROFILES.length] as string;
      const linkPath = join(dir, `${id}.tty`);
      const robot = new VirtualRobot({ profile, stateRateHz: opts.stateRateHz ?? 250, linkPath, seed: i + 1 });
      await robot.start();
      writeFileSync(join(dir, `${id}.password`), `${id}-secret`);
      const config = parseEdgeConfig({
        robot: { id, profile },
        // Many daemons share this one event loop (in production each has its own process): a
        // generous MCU watchdog keeps a start-up stall of one from tripping the others.
        serial: { path: linkPath, stateRateHz: opts.stateRateHz ?? 250, watchdogMs: 1000 },
        // The whole fleet, its brain and broker share this process's event loop: its stalls are the
        // rig's, not a robot's, so the tick threads' main-loop bound matches the firmware's 1 s watchdog.
        control: { rateHz: 100, policy: 'crossfade', stepMs: 20, mainStallBoundMs: 1000 },
        cloud: { target: `127.0.0.1:${brain.port}`, observationRateHz: 10 },
        mqtt: {
          url: broker.url, fleet, passwordFile: join(dir, `${id}.password`), telemetryHz: opts.telemetryHz ?? 20,
          ...(certs ? { tls: { caFile: certs.files.ca } } : {}),
        },
      }, id);
      const daemon = await startEdgeDaemon(config, pino({ level: 'silent' }));
      robots.push({ id, profile, robot, daemon });
    }
    const ready = (): boolean => robots.every((r) => r.daemon.link.state === 'READY' && r.daemon.supervisor.state === 'IDLE');
    await waitFor('every robot READY and IDLE', ready, 20_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${robots.map((r) => `${r.id} link ${r.daemon.link.state}, safety ${r.daemon.supervisor.state}`).join('; ')}`);
    });
    const rig: FleetRig = {
      fleet, broker, brain, dashboard, robots, operator, viewer, close,
      async restartBroker(downMs: number): Promise<void> {
        const { port, wsPort } = rig.broker;
        await rig.broker.close();
        await new Promise((r) => setTimeout(r, downMs));
        broker = await startBroker(port, wsPort ?? 0);
        rig.broker = broker;
      },
    };
    return rig;
  } catch (e) {
    await close();
    throw e;
  }
}
