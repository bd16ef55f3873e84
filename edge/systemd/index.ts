export { createNotifier, formatNotify, NotifyError, type Notifier, type NotifierOptions, type NotifyFields } from './sd-notifier.js';
export { findNotifyHelper, requireNotifyHelper, checkHelperPathSafe, installedHelperPath, NotifyHelperError, type HelperLocation, type HelperLookup } from './notify-helper.js';
export { NotifyListener, type NotifyMessage } from './notify-listener.js';
export { SystemdWatchdog, LivenessProbe, watchdogPeriodUs, type WatchdogOptions } from './watchdog.js';
export { installShutdown, type ShutdownOptions, type ShutdownHandle, type ShutdownLogger } from './shutdown.js';
export { renderUnitFile, type UnitFileOptions } from './unit-file.js';
export { SystemdConfigSchema, type SystemdConfig } from './systemd-config.js';
