/**
 * A camera as the cloud link sees it: an id and the newest frame, compressed. Sources are
 * pluggable (a simulated camera rendered from the robot's state, a V4L2 device through ffmpeg or
 * v4l2-ctl, anything a user writes); the link only ever asks for the newest frame, so a slow
 * link never queues stale images.
 */
export interface CameraFrame {
  cameraId: string;
  encoding: 'jpeg' | 'png';
  /** The compressed image. Owned by the frame: a source never writes into a frame it handed out. */
  data: Buffer;
  width: number;
  height: number;
  /** µs on the edge clock (the Clock the source was given) when the image was captured. */
  captureTimeUs: number;
  /** Per source, strictly increasing: tells a new frame from one already sent. */
  frameSeq: number;
}

export interface CameraSource {
  readonly id: string;
  /** The newest frame, or null when there is none yet (or the source has stopped). Cheap to call. */
  latest(): CameraFrame | null;
}
