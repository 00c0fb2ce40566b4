export type { UploadFileProgress, UploadProgress } from './progress.js';
export {
  type ByteStream,
  type ToUploadOptions,
  toUpload,
  type UploadData,
  type UploadInput,
  type UploadSource,
} from './sources.js';
export {
  UPLOAD_TIMEOUT_MS,
  type UploadedFile,
  type UploadFileType,
  type UploadOptions,
  type UploadResult,
  uploadFiles,
  uploadUrls,
} from './upload.js';
