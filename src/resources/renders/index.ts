export {
  type DownloadOptions,
  type DownloadProgress,
  type DownloadResult,
  type DownloadTarget,
  download,
} from '../downloads/download.js';
export {
  type ExportOptions,
  type ExportProgress,
  type ExportResult,
  exportSession,
} from './export.js';
export {
  decodeRenderStatus,
  newRenderId,
  RenderJob,
  type RenderOptions,
  type RenderOutput,
  type RenderResult,
  type RenderStatus,
  type RenderStatusValue,
  type RenderWaitOptions,
  startRender,
} from './render.js';
