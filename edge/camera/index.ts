/** Public API of edge/camera: the camera source seam, the simulated camera, the V4L2 camera. */
export type { CameraFrame, CameraSource } from './camera-source.js';
export { SimulatedCamera, type JointStateReader, type SimulatedCameraOptions } from './simulated-camera.js';
export { drawJointSketch, type SketchLimits } from './joint-sketch.js';
export { MjpegSplitter, type MjpegSplitterCounters } from './mjpeg-splitter.js';
export { jpegDimensions } from './jpeg-markers.js';
export {
  V4l2Camera, findExecutable, probeV4l2, v4l2Command,
  type CameraProbe, type CaptureFormat, type V4l2CameraEvents, type V4l2CameraExit, type V4l2CameraOptions, type V4l2CameraStatus, type V4l2Tool,
} from './v4l2-camera.js';
