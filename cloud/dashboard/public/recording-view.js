// @ts-check
/**
 * The flight recorder's status as the robot's detail shows it, from the state summary's
 * `recording` field (RecorderStatus): null means the robot has no recorder, absent means an edge
 * too old to say.
 */

/** @param {number} bytes */
export function bytesText(bytes) {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
  return `${v.toFixed(u === 0 || v >= 100 ? 0 : 1)} ${units[u]}`;
}

/**
 * @param {any} rec the summary's `recording` (RecorderStatus, null or undefined)
 * @returns {{ status: string, disk: string, state: 'recording' | 'ring' | 'error' | 'off' | 'unknown' }}
 */
export function recordingText(rec) {
  if (rec === undefined) return { status: '—', disk: '—', state: 'unknown' };
  if (rec === null) return { status: 'off (no flight recorder)', disk: '—', state: 'off' };
  const pct = rec.quotaBytes > 0 ? ` (${Math.round((100 * rec.diskBytes) / rec.quotaBytes)}%)` : '';
  const disk = `${bytesText(rec.diskBytes)} of ${bytesText(rec.quotaBytes)}${pct}, ${rec.files} file${rec.files === 1 ? '' : 's'}`;
  const extras = [
    rec.episode !== null ? `episode ${rec.episode}` : 'no episode open',
    ...(rec.dropped > 0 ? [`${rec.dropped} dropped`] : []),
    ...(rec.blackBoxSaves > 0 ? [`${rec.blackBoxSaves} black-box save${rec.blackBoxSaves === 1 ? '' : 's'}`] : []),
  ].join(', ');
  if (rec.error) return { status: `stopped: ${rec.error}`, disk, state: 'error' };
  return rec.recording ? { status: `recording, ${extras}`, disk, state: 'recording' } : { status: `black box only, ${extras}`, disk, state: 'ring' };
}
