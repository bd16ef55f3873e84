#!/usr/bin/env node
/**
 * The `spinal` command line. This file is the composition root: it owns no behaviour, it parses
 * arguments and calls into the layer that owns each subcommand (firmware-shim for sim, edge for
 * edge, test/bench for bench, bin/dataset for dataset); the demo composes processes, not modules.
 */
import { Command, InvalidArgumentError } from 'commander';
import { parseEdgeConfig, loadEdgeConfig, ConfigError, type EdgeConfig } from '../edge/config.js';
import { EDGE_SOFTWARE_VERSION, runEdge } from '../edge/main.js';
import { CloudConfigError, loadCloudConfig, type CloudConfig } from '../cloud/config.js';
import { runCloud } from '../cloud/main.js';
import { CertsError, runCerts } from '../cloud/security/dev-certs.js';
import { HAPROXY_DEFAULTS, HaproxyConfigError, parseListen, parseReplicas, writeHaproxyConfig } from '../cloud/balancer/haproxy-config.js';
import { runModels } from '../edge/decoder/models/cli.js';
import type { FleetAccounts } from '../edge/mqtt/broker/broker-users.js';
import { parseFleetAccounts } from '../proto/mqtt/index.js';
import { writeMosquittoConfig } from '../edge/mqtt/broker/mosquitto-config.js';
import { renderUnitFile } from '../edge/systemd/unit-file.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSim } from '../firmware-shim/virtual/cli.js';
import { isSeededFault, SEEDED_FAULTS } from '../firmware-shim/virtual/seeded-faults.js';
import { runConformanceCli } from '../edge/conformance/cli.js';
import { CHECK_IDS } from '../edge/conformance/run-conformance.js';
import { qemuSimUnavailable, runQemuSim } from '../firmware-shim/qemu/index.js';
import { getProfile, listProfiles, ProfileError } from '../hardware/index.js';
import { runDemo } from './demo.js';
import { parseExecution, parseMode, runEvalCommand, type SuiteName } from './eval/eval-command.js';
import { spawnProgram, watchParent } from '../edge/process/tethered-child.js';

// Started by a parent that holds a parent-death pipe (the demo, a test, a bench): stop, as on
// SIGTERM, when that parent is gone, however it went.
watchParent();

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer (got ${JSON.stringify(v)})`);
    return n;
  };
}

/** Checks a profile id up front so a typo is one clear line, not a stack trace. */
function checkProfile(id: string): void {
  try {
    getProfile(id);
  } catch (e) {
    if (e instanceof ProfileError) fail(`--profile: ${e.message}`);
    throw e;
  }
}

function rate(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`${name} must be a probability in 0..1 (got ${JSON.stringify(v)})`);
    return n;
  };
}

function fail(message: string, code = 2): never {
  console.error(`spinal: ${message}`);
  process.exit(code);
}

const program = new Command('spinal')
  .description('Spinal: edge robot firmware bridge with a cloud brain')
  .version(`${EDGE_SOFTWARE_VERSION.major}.${EDGE_SOFTWARE_VERSION.minor}.${EDGE_SOFTWARE_VERSION.patch}`)
  .showHelpAfterError();

program
  .command('demo')
  .description('a fleet on embedded defaults: brain, MQTT broker, and per robot a virtual firmware and an edge daemon; robots are given a task and move (what `npm start` runs)')
  .option('--robots <n>', 'number of robots (profiles alternate: arm6-gripper, quadruped12)', positiveInt('--robots'), 3)
  .option('--rate <hz>', 'STATE rate of the virtual robots (default 250)', positiveInt('--rate'))
  .option('--dashboard-port <port>', 'the dashboard\'s port on 127.0.0.1 (default 8080; a free port when 8080 is taken)', positiveInt('--dashboard-port'))
  .option('--firmware <kind>', 'virtual (WebAssembly, default) or qemu (the Cortex-M4F image under qemu-system-arm; falls back to virtual when QEMU or the image is missing)', 'virtual')
  .action(async (o: { robots: number; rate?: number; dashboardPort?: number; firmware: string }) => {
    if (o.firmware !== 'virtual' && o.firmware !== 'qemu') fail(`demo: --firmware must be virtual or qemu (got ${JSON.stringify(o.firmware)})`);
    if (o.robots > 20) fail(`demo: --robots ${o.robots} is more than this launcher runs on one machine (at most 20)`);
    if (o.dashboardPort !== undefined && o.dashboardPort > 65535) fail(`demo: --dashboard-port ${o.dashboardPort} is not a TCP port (1..65535)`);
    process.exit(await runDemo({ robots: o.robots, firmware: o.firmware, ...(o.rate !== undefined ? { rate: o.rate } : {}), ...(o.dashboardPort !== undefined ? { dashboardPort: o.dashboardPort } : {}) }));
  });

program
  .command('sim')
  .description('the virtual firmware on a pseudo-terminal; prints the tty path on the first line of stdout')
  .requiredOption('--profile <name>', `robot profile (${listProfiles().join(', ')})`)
  .option('--rate <hz>', 'STATE rate (default: the profile\'s)', positiveInt('--rate'))
  .option('--link <path>', 'also expose the tty at this stable path (a symlink, like a udev rule)')
  .option('--seed <n>', 'seed of the simulated sensors and line faults', positiveInt('--seed'))
  .option('--ber <p>', 'line fault: probability that a bit sent to the host is flipped', rate('--ber'))
  .option('--drop-rate <p>', 'line fault: probability that a byte sent to the host is lost', rate('--drop-rate'))
  .option('--garbage-rate <p>', 'line fault: probability, per byte, of a burst of garbage before it', rate('--garbage-rate'))
  .option('--seeded-fault <name>', `imitate a firmware bug, for testing spinal conformance (${Object.keys(SEEDED_FAULTS).join(', ')})`)
  .option('--firmware <kind>', 'virtual: the C core as WebAssembly in this process; qemu: the Cortex-M4F image under qemu-system-arm (mps2-an386)', 'virtual')
  .option('--image <elf>', 'with --firmware qemu: the image to boot (default: firmware-shim/c/build/mps2-an386/<profile>.elf from `npm run firmware`)')
  .option('--baud <n>', 'model a serial line of this many baud (8N1) each way; default: none, the PTY runs as fast as both ends', positiveInt('--baud'))
  .action(async (o: { profile: string; rate?: number; link?: string; seed?: number; ber?: number; dropRate?: number; garbageRate?: number; seededFault?: string; firmware: string; image?: string; baud?: number }) => {
    checkProfile(o.profile);
    if (o.seededFault !== undefined && !isSeededFault(o.seededFault)) fail(`--seeded-fault: unknown fault ${JSON.stringify(o.seededFault)} (${Object.keys(SEEDED_FAULTS).join(', ')})`);
    if (o.firmware !== 'virtual' && o.firmware !== 'qemu') fail(`sim: --firmware must be virtual or qemu (got ${JSON.stringify(o.firmware)})`);
    if (o.firmware === 'qemu') {
      // The STATE rate is set by the host's CONFIG; line faults and seeded faults are the virtual firmware's.
      const ignored = [o.rate !== undefined && '--rate', o.seed !== undefined && '--seed', o.ber !== undefined && '--ber', o.dropRate !== undefined && '--drop-rate', o.garbageRate !== undefined && '--garbage-rate', o.seededFault !== undefined && '--seeded-fault', o.baud !== undefined && '--baud'].filter(Boolean);
      if (ignored.length > 0) fail(`sim: ${ignored.join(', ')} apply to the virtual firmware only, not to --firmware qemu`);
      const why = qemuSimUnavailable(o.profile, o.image);
      if (why !== null) fail(`sim --firmware qemu: ${why}`);
      await runQemuSim({ profile: o.profile, spawn: spawnProgram, ...(o.image !== undefined ? { image: o.image } : {}), ...(o.link !== undefined ? { link: o.link } : {}) });
      return;
    }
    if (o.image !== undefined) fail('sim: --image goes with --firmware qemu');
    const faults = {
      ...(o.ber !== undefined ? { bitErrorRate: o.ber } : {}),
      ...(o.dropRate !== undefined ? { dropRate: o.dropRate } : {}),
      ...(o.garbageRate !== undefined ? { garbageRate: o.garbageRate } : {}),
    };
    await runSim({
      profile: o.profile,
      faults,
      ...(o.rate !== undefined ? { rate: o.rate } : {}),
      ...(o.link !== undefined ? { link: o.link } : {}),
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      ...(o.seededFault !== undefined && isSeededFault(o.seededFault) ? { seededFault: o.seededFault } : {}),
      ...(o.baud !== undefined ? { baudRate: o.baud } : {}),
    });
  });

program
  .command('conformance')
  .description('check an MCU (or any serial device) against the serial protocol spec; moves the robot slowly within its limits, after confirmation')
  .requiredOption('--port <path>', 'serial device, e.g. /dev/ttyUSB0')
  .requiredOption('--profile <name>', `robot profile (${listProfiles().join(', ')})`)
  .option('--yes', 'do not ask before powering and moving the robot')
  .option('--json <file>', 'also write the report as JSON')
  .option('--only <checks>', `comma-separated checks besides handshake and config (${CHECK_IDS.join(', ')})`)
  .option('--baud <rate>', "baud rate (default: the profile's)", positiveInt('--baud'))
  .option('--ack-timeout <ms>', 'how long an ACK may take (default 500); more for slow USB bridges or an emulator such as QEMU, which holds host bytes up to about a second', positiveInt('--ack-timeout'))
  .action(async (o: { port: string; profile: string; yes?: boolean; json?: string; only?: string; baud?: number; ackTimeout?: number }) => {
    checkProfile(o.profile);
    try {
      process.exitCode = await runConformanceCli({ ...o, software: { ...EDGE_SOFTWARE_VERSION } });
    } catch (e) {
      fail((e as Error).message, 1);
    }
  });

program
  .command('edge')
  .description('the edge daemon (what the systemd unit runs)')
  .option('--config <file>', 'configuration file (JSON)')
  .option('--port <path>', 'serial device, instead of a config file')
  .option('--profile <name>', 'robot profile, with --port')
  .option('--id <robot-id>', 'robot id, with --port', 'robot-1')
  .option('--monitor', 'show a live view of the robot in the terminal', false)
  .action(async (o: { config?: string; port?: string; profile?: string; id: string; monitor: boolean }) => {
    let config: EdgeConfig;
    try {
      if (o.config !== undefined) {
        if (o.port !== undefined) fail('edge: give either --config or --port, not both');
        config = loadEdgeConfig(o.config);
      } else if (o.port !== undefined && o.profile !== undefined) {
        config = parseEdgeConfig({ robot: { id: o.id, profile: o.profile }, serial: { path: o.port } }, 'command line');
      } else {
        fail('edge: needs --config FILE, or --port PATH with --profile NAME');
      }
    } catch (e) {
      if (e instanceof ConfigError) fail(e.message);
      throw e;
    }
    // Exit explicitly: the controlled stop has run, and a straggling handle must not keep a
    // stopped daemon alive until systemd's stop timeout.
    process.exit(await runEdge({ config, monitor: o.monitor }));
  });

program
  .command('cloud')
  .description('the brain server (gRPC) with its model backend, health checking and Prometheus metrics')
  .requiredOption('--config <file>', 'configuration file (JSON)')
  .action(async (o: { config: string }) => {
    let config: CloudConfig;
    try {
      config = loadCloudConfig(o.config);
    } catch (e) {
      if (e instanceof CloudConfigError) fail(e.message);
      throw e;
    }
    try {
      process.exitCode = await runCloud({ config });
    } catch (e) {
      fail(`cloud: ${(e as Error).message}`, 1);
    }
  });
program
  .command('models')
  .description('writes the reference, benchmark and fused ONNX decoders')
  .argument('[which...]', 'model names, "reference", "benchmark", a DiT preset or "all" (default: all but the GR00T-sized DiT)')
  .option('--out <dir>', 'output folder', 'models')
  .option('--list', 'only list what would be written', false)
  .option('--horizon <H>', 'benchmark chunk length', positiveInt('--horizon'))
  .option('--action-dim <A>', 'benchmark action dimension', positiveInt('--action-dim'))
  .option('--latent-dim <Dz>', 'benchmark latent dimension', positiveInt('--latent-dim'))
  .option('--fused-steps <n>', 'denoising steps baked into the fused variants', positiveInt('--fused-steps'))
  .option('--parameterization <p>', 'benchmark parameterisation: velocity or epsilon')
  .action(async (which: string[], o: { out: string; list: boolean; horizon?: number; actionDim?: number; latentDim?: number; fusedSteps?: number; parameterization?: string }) => {
    if (o.parameterization !== undefined && o.parameterization !== 'velocity' && o.parameterization !== 'epsilon') {
      fail(`models: --parameterization must be velocity or epsilon (got ${JSON.stringify(o.parameterization)})`);
    }
    process.exitCode = await runModels({
      out: o.out,
      list: o.list,
      ...(which.length > 0 ? { which } : {}),
      ...(o.horizon !== undefined ? { horizon: o.horizon } : {}),
      ...(o.actionDim !== undefined ? { actionDim: o.actionDim } : {}),
      ...(o.latentDim !== undefined ? { latentDim: o.latentDim } : {}),
      ...(o.fusedSteps !== undefined ? { fusedSteps: o.fusedSteps } : {}),
      ...(o.parameterization !== undefined ? { parameterization: o.parameterization } : {}),
    });
  });
const collect = (v: string, prev: string[]): string[] => [...prev, v];
program
  .command('certs')
  .description('a development CA, a server certificate and per-robot (and operator) client certificates, as PEM files')
  .option('--out <dir>', 'output folder', 'certs')
  .option('--robot <id>', 'a robot to issue a client certificate for (repeatable)', collect, [] as string[])
  .option('--operator <name>', 'an operator to issue a client certificate for (repeatable)', collect, [] as string[])
  .option('--server-name <host>', 'a DNS name or IP the brain server answers on (repeatable; default localhost)', collect, [] as string[])
  .option('--days <n>', 'validity in days', positiveInt('--days'))
  .option('--force', 'overwrite existing files', false)
  .action(async (o: { out: string; robot: string[]; operator: string[]; serverName: string[]; days?: number; force: boolean }) => {
    try {
      const r = await runCerts({
        out: o.out, robots: o.robot, operators: o.operator, force: o.force,
        ...(o.serverName.length > 0 ? { serverNames: o.serverName } : {}),
        ...(o.days !== undefined ? { days: o.days } : {}),
      });
      for (const f of r.files) console.log(f);
    } catch (e) {
      if (e instanceof CertsError) fail(`certs: ${e.message}`);
      throw e;
    }
  });

program
  .command('mosquitto')
  .description('writes a Mosquitto config, password file and topic ACL for a fleet (robots publish only their own telemetry; only operators reset)')
  .requiredOption('--accounts <file>', 'JSON: {"fleet", "robots": [{"id","password"}], "operators": [{"name","password"}], "viewers": [...], "brains": [...]}')
  .option('--out <dir>', 'output folder', 'mosquitto')
  .option('--port <n>', 'listener port', positiveInt('--port'), 1883)
  .option('--host <addr>', 'listener address', '127.0.0.1')
  .option('--user <name>', 'the user mosquitto drops to when started as root, before it reads these files; run as root, this command hands the folder and files to that user', 'mosquitto')
  .option('--dynamic-security', 'accounts and ACL in Mosquitto\'s dynamic security plugin: robots keep their passwords, operators and viewers get roles only, and the dashboard adds a random client per login session (writes its admin login to dashboard-broker-admin.json)', false)
  .option('--websockets-port <n>', 'also a MQTT-over-WebSocket listener on this port (for the dashboard\'s browsers), same host, accounts and ACL', positiveInt('--websockets-port'))
  .option('--certfile <pem>', 'TLS on both listeners (mqtts://, wss://): the broker\'s certificate, e.g. server.pem from `spinal certs`')
  .option('--keyfile <pem>', 'the broker certificate\'s private key')
  .option('--cafile <pem>', 'the CA that signs client certificates (robots\' from `spinal certs`)')
  .option('--require-certificate', 'the MQTT listener refuses clients without a certificate from --cafile', false)
  .option('--use-identity-as-username', 'the client certificate\'s CN is the username (robot certificates carry the robot id)', false)
  .option('--allow-plaintext', 'listen without TLS on a non-loopback --host (a network you trust completely)', false)
  .action((o: {
    accounts: string; out: string; port: number; host: string; user: string; dynamicSecurity: boolean; websocketsPort?: number;
    certfile?: string; keyfile?: string; cafile?: string; requireCertificate: boolean; useIdentityAsUsername: boolean; allowPlaintext: boolean;
  }) => {
    if ((o.certfile === undefined) !== (o.keyfile === undefined)) fail('mosquitto: --certfile and --keyfile go together');
    if (o.certfile === undefined && (o.cafile !== undefined || o.requireCertificate || o.useIdentityAsUsername)) fail('mosquitto: --cafile, --require-certificate and --use-identity-as-username need --certfile and --keyfile');
    let accounts: FleetAccounts;
    try {
      accounts = parseFleetAccounts(JSON.parse(readFileSync(o.accounts, 'utf8')), o.accounts);
    } catch (e) {
      fail(`mosquitto: --accounts ${o.accounts}: ${(e as Error).message}`);
    }
    try {
      const admin = o.dynamicSecurity ? { username: 'spinal-dashboard', password: randomBytes(24).toString('base64url') } : null;
      const files = writeMosquittoConfig({
        ...accounts, dir: o.out, port: o.port, host: o.host, runAsUser: o.user, allowPlaintext: o.allowPlaintext,
        ...(admin !== null ? { dynamicSecurity: { admin } } : {}),
        ...(o.certfile !== undefined && o.keyfile !== undefined ? {
          tls: {
            certfile: resolve(o.certfile), keyfile: resolve(o.keyfile), requireCertificate: o.requireCertificate, useIdentityAsUsername: o.useIdentityAsUsername,
            ...(o.cafile !== undefined ? { cafile: resolve(o.cafile) } : {}),
          },
        } : {}),
        ...(o.websocketsPort !== undefined ? { websockets: { port: o.websocketsPort, host: o.host } } : {}),
      });
      const written = [files.conf, files.passwd, files.acl, files.dynsec].filter((f) => f !== undefined);
      if (admin !== null) {
        // The dashboard's login, not the broker's: it stays with the user running this (0600).
        const adminFile = join(o.out, 'dashboard-broker-admin.json');
        writeFileSync(adminFile, `${JSON.stringify(admin)}\n`, { mode: 0o600 });
        written.push(adminFile);
      }
      for (const w of files.warnings) console.error(`warning: ${w}`);
      console.log(`${written.join('\n')}\nrun: mosquitto -c ${files.conf}`);
    } catch (e) {
      fail(`mosquitto: ${(e as Error).message}`);
    }
  });

program
  .command('haproxy')
  .description('writes an HAProxy 2.6 configuration for brain replicas: TCP with TLS passed through, /healthz checks, drain over the stats socket')
  .requiredOption('--replicas <list>', 'host:grpcPort:healthPort of each replica, comma-separated (healthPort: the replica\'s health.port)')
  .option('--listen <host:port>', 'where robots connect', HAPROXY_DEFAULTS.listen)
  .option('--out <dir>', 'output folder', 'haproxy')
  .option('--stats-socket <path>', 'the admin socket (drain, show servers state)', HAPROXY_DEFAULTS.statsSocket)
  .option('--inter <ms>', 'health check interval', positiveInt('--inter'), HAPROXY_DEFAULTS.interMs)
  .option('--fall <n>', 'failed checks before a replica is marked down (set the replicas\' health.downAfterChecks to it)', positiveInt('--fall'), HAPROXY_DEFAULTS.fall)
  .option('--rise <n>', 'good checks before it is marked up again', positiveInt('--rise'), HAPROXY_DEFAULTS.rise)
  .option('--check-timeout <ms>', 'how long one health check may take', positiveInt('--check-timeout'), HAPROXY_DEFAULTS.checkTimeoutMs)
  .option('--maxconn <n>', 'robot connections at once (HAProxy needs two file descriptors each)', positiveInt('--maxconn'), HAPROXY_DEFAULTS.maxconn)
  .action((o: { replicas: string; listen: string; out: string; statsSocket: string; inter: number; fall: number; rise: number; checkTimeout: number; maxconn: number }) => {
    try {
      const file = writeHaproxyConfig(o.out, {
        ...HAPROXY_DEFAULTS, replicas: parseReplicas(o.replicas), listen: parseListen(o.listen), statsSocket: o.statsSocket,
        interMs: o.inter, fall: o.fall, rise: o.rise, checkTimeoutMs: o.checkTimeout, maxconn: o.maxconn,
      });
      console.log(`${file}\ncheck: haproxy -c -f ${file}\nrun: haproxy -f ${file}`);
    } catch (e) {
      if (e instanceof HaproxyConfigError) fail(`haproxy: ${e.message}`);
      throw e;
    }
  });

program
  .command('unit')
  .description('prints the systemd unit for the edge daemon (Type=notify, watchdog, hardening, the serial device allowed)')
  .requiredOption('--config <file>', 'absolute path of the edge configuration')
  .requiredOption('--device <path>', 'the stable serial device from the udev rules, e.g. /dev/spinal/FT9XK2AB')
  .option('--node <path>', 'absolute path of node', process.execPath)
  .option('--user <name>', 'the service user (in the dialout group)', 'spinal')
  .option('--watchdog-sec <n>', 'WatchdogSec=', positiveInt('--watchdog-sec'))
  .option('--allow-device <spec...>', 'more devices the service may open (DeviceAllow=), e.g. "/dev/video0 rw", "char-nvhost rw", "/dev/nvmap rw"')
  .option('--group <name...>', 'more supplementary groups besides dialout, e.g. video')
  .action((o: { config: string; device: string; node: string; user: string; watchdogSec?: number; allowDevice?: string[]; group?: string[] }) => {
    try {
      process.stdout.write(renderUnitFile({
        node: o.node, cli: fileURLToPath(import.meta.url), configPath: o.config, serialDevice: o.device, user: o.user,
        ...(o.watchdogSec !== undefined ? { watchdogSec: o.watchdogSec } : {}),
        ...(o.allowDevice !== undefined ? { extraDevices: o.allowDevice } : {}),
        ...(o.group !== undefined ? { extraGroups: o.group } : {}),
      }));
    } catch (e) {
      fail(`unit: ${(e as Error).message}`);
    }
  });

program
  .command('bench')
  .description('the benchmarks (`npm run bench` runs them all); each writes test/bench/results/<scenario>.json')
  .argument('[scenario...]', 'scenario names; all when none')
  .action(async (names: string[]) => {
    // Loaded on demand: the bench runner pulls in playwright-core and every scenario, which a
    // `spinal edge` start on a robot has no use for.
    const { runBenchmarks } = await import('../test/bench/run.js');
    process.exitCode = await runBenchmarks(names);
    // Every result is written by now. A scenario may leave a handle open (a worker, a socket of a
    // fleet it tore down): the run ends anyway, once stdout has had a moment to drain.
    setTimeout(() => process.exit(), 1000).unref();
  });

program
  .command('eval')
  .description('closed-loop motion quality on virtual robots: tasks of the reference brain on both profiles, with injected brain and decoder latency, in simulated time (deterministic) or in real time through the whole daemon; writes report.json and SVG plots')
  .option('--suite <name>', 'short (CI: hold and a named reach at 0 and 300 ms), full (every task x switching policy x brain latency x decoder), faults (plan loss, slow decoder)', 'short')
  .option('--mode <mode>', 'simulated (one injected clock, deterministic) or real-time (the virtual firmware on a PTY in its own process, the edge daemon, the brain behind a delaying proxy; needs npm run build)', 'simulated')
  .option('--out <dir>', 'where report.json and plots/ go', 'eval-results')
  .option('--policy <name>', 'switching policy of the short and fault suites: hard, crossfade, ensemble, inpaint or stop-and-go (default: the daemon\'s)')
  .option('--filter <text>', 'only tasks whose "profile/task" contains this')
  .option('--plot-all', 'a plot for every run (default: the chosen policy\'s runs)')
  .action(async (o: { suite: string; mode: string; out: string; policy?: string; filter?: string; plotAll?: boolean }) => {
    if (!['short', 'full', 'faults'].includes(o.suite)) fail(`eval: --suite ${JSON.stringify(o.suite)} is not one of short, full, faults`);
    let execution, mode;
    try {
      execution = o.policy === undefined ? undefined : parseExecution(o.policy);
      mode = parseMode(o.mode);
    } catch (e) {
      fail(`eval: ${(e as Error).message}`);
    }
    try {
      const r = await runEvalCommand({
        suite: o.suite as SuiteName, mode, out: o.out, ...(execution !== undefined ? { execution } : {}),
        ...(o.filter !== undefined ? { filter: o.filter } : {}), ...(o.plotAll === true ? { plotAll: true } : {}),
      });
      process.exitCode = r.exitCode;
    } catch (e) {
      if (e instanceof RangeError) fail(`eval: ${e.message}`);
      throw e;
    }
    // Real time: a straggling handle of a torn-down daemon must not keep a finished run alive.
    if (mode === 'real-time') setTimeout(() => process.exit(), 1000).unref();
  });

const dataset = program
  .command('dataset')
  .description('flight recordings (MCAP) to LeRobot datasets: export, inspect, replay');

dataset
  .command('export')
  .description('convert recordings into one LeRobot v3.0 dataset (parquet frames resampled to --fps, MP4 videos through ffmpeg when present)')
  .argument('<recordings...>', 'MCAP files written by the edge recorder, in the order their episodes should take')
  .requiredOption('--out <dir>', 'dataset directory (written whole or not at all)')
  .option('--fps <n>', 'frames per second of the dataset', positiveInt('--fps'), 30)
  .option('--task-from <source>', 'task text of an episode: episodes (its recorded task) or task-id', 'episodes')
  .option('--task <text>', 'one task text for every episode instead')
  .option('--skip-empty', 'leave out episodes with no frame at this fps (default: refuse)')
  .option('--overwrite', 'replace --out when it exists')
  .option('--no-videos', 'do not encode camera videos')
  .action(async (recordings: string[], o: { out: string; fps: number; taskFrom: string; task?: string; skipEmpty?: boolean; overwrite?: boolean; videos: boolean }) => {
    const { runExportCli } = await import('./dataset/cli.js');
    process.exitCode = await runExportCli(recordings, o);
  });

dataset
  .command('inspect')
  .description('a recording\'s episodes, durations, topics and rates, joints; or a dataset directory\'s summary')
  .argument('<path>', 'an MCAP recording or a dataset directory')
  .action(async (path: string) => {
    const { runInspectCli } = await import('./dataset/cli.js');
    process.exitCode = await runInspectCli(path);
  });

dataset
  .command('replay')
  .description('feed a recording\'s commands into the simulated plant and report how it tracks the recorded state, or show it again on the dashboard')
  .argument('<recording>', 'an MCAP recording')
  .option('--into <target>', 'plant (the simulated plant: tracking vs recorded STATE) or dashboard (state summaries on the fleet broker)', 'plant')
  .option('--broker <url>', 'dashboard: the fleet broker, e.g. mqtt://127.0.0.1:1883')
  .option('--fleet <name>', 'dashboard: the fleet to publish in')
  .option('--robot <id>', 'dashboard: the robot id to publish as (default: the recording\'s)')
  .option('--username <name>', 'dashboard: broker user (its password from SPINAL_REPLAY_PASSWORD)')
  .option('--speed <x>', 'dashboard: recorded seconds per second, or max (default 1)')
  .option('--rate <hz>', 'dashboard: summaries per recorded second (default 10)', positiveInt('--rate'))
  .action(async (recording: string, o: { into: string; broker?: string; fleet?: string; robot?: string; username?: string; speed?: string; rate?: number }) => {
    const { runReplayCli } = await import('./dataset/cli.js');
    process.exitCode = await runReplayCli(recording, o);
  });

await program.parseAsync(process.argv);
