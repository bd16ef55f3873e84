/**
 * The systemd unit of the edge daemon: Type=notify with a watchdog, restart on failure, and a
 * hardened sandbox that still reaches the serial device. Render with the installation's paths:
 *   spinal ... > /etc/systemd/system/spinal-edge.service && systemctl daemon-reload
 */
export interface UnitFileOptions {
  /** Absolute path of node and of the spinal CLI, e.g. /usr/bin/node /opt/spinal/dist/bin/spinal.js */
  node: string;
  cli: string;
  configPath: string;
  /** The stable serial path from the udev rules, e.g. /dev/spinal/FT9XK2AB. */
  serialDevice: string;
  user?: string;
  watchdogSec?: number;
  /** Extra DeviceAllow= entries (e.g. Jetson GPU nodes `char-nvhost rw`, `/dev/nvmap rw`, a camera `/dev/video0 rw`). */
  extraDevices?: readonly string[];
  /** Extra SupplementaryGroups= besides dialout (e.g. `video` for cameras and the Jetson GPU). */
  extraGroups?: readonly string[];
  description?: string;
}

/** DeviceAllow='s forms: a /dev path or a char-/block- class, then optional r, w, m access letters. */
const DEVICE_ALLOW = /^(?:\/dev\/[\w./:-]+|(?:char|block)-[\w-]+)(?: [rwm]{1,3})?$/;
const GROUP = /^[a-z_][a-z0-9_-]{0,31}$/;

export function renderUnitFile(o: UnitFileOptions): string {
  for (const d of o.extraDevices ?? []) {
    if (!DEVICE_ALLOW.test(d)) throw new Error(`unit file device ${JSON.stringify(d)} is not a DeviceAllow= entry (a /dev path or char-/block- class, optionally followed by r, w, m)`);
  }
  for (const g of o.extraGroups ?? []) {
    if (!GROUP.test(g)) throw new Error(`unit file group ${JSON.stringify(g)} is not a group name`);
  }
  for (const [key, v] of [['node', o.node], ['cli', o.cli], ['configPath', o.configPath], ['serialDevice', o.serialDevice]] as const) {
    if (!v.startsWith('/') || /\s/.test(v)) throw new Error(`unit file ${key} ${JSON.stringify(v)} must be an absolute path without spaces`);
  }
  const watchdogSec = o.watchdogSec ?? 5;
  if (!(watchdogSec >= 1 && watchdogSec <= 600)) throw new Error(`unit file watchdogSec ${watchdogSec} must be within 1..600`);
  return `[Unit]
Description=${o.description ?? 'Spinal edge daemon (robot serial link, safety, MQTT)'}
Wants=network-online.target
After=network-online.target
# Restart at most 5 times in 60 s, then stay failed (a crash loop must be seen, not hidden).
StartLimitIntervalSec=60
StartLimitBurst=5

[Service]
Type=notify
# The READY/WATCHDOG/STOPPING datagrams come from the daemon's sd_notify relay (a child process).
NotifyAccess=all
ExecStart=${o.node} ${o.cli} edge --config ${o.configPath}
WatchdogSec=${watchdogSec}
Restart=on-failure
RestartSec=1
# SIGTERM: the daemon puts a stop on the wire first, then exits; SIGKILL after this.
KillMode=mixed
TimeoutStopSec=10
User=${o.user ?? 'spinal'}
Group=${o.user ?? 'spinal'}
SupplementaryGroups=${['dialout', ...(o.extraGroups ?? [])].join(' ')}
# Runtime and state files (the sd_notify relay is built at install, never here).
RuntimeDirectory=spinal
StateDirectory=spinal

# Sandbox
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictNamespaces=yes
RestrictRealtime=no
RestrictSUIDSGID=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
# Only CAP_SYS_NICE: the control tick thread puts itself under SCHED_FIFO (chrt; RestrictRealtime=no)
# and the decoder thread below normal (edge/thread-priority.ts); without it the daemon runs at default priority.
CapabilityBoundingSet=CAP_SYS_NICE
AmbientCapabilities=CAP_SYS_NICE
DevicePolicy=closed
DeviceAllow=${o.serialDevice} rw
DeviceAllow=char-ttyUSB rw
DeviceAllow=char-ttyACM rw
${(o.extraDevices ?? []).map((d) => `DeviceAllow=${d}\n`).join('')}# Not set on purpose: MemoryDenyWriteExecute (V8's JIT needs W+X pages), PrivateDevices (hides the tty).

[Install]
WantedBy=multi-user.target
`;
}
