/**
 * Streaming multipart parsing of uploads with busboy: files are counted and hashed as they
 * stream and never held in memory; type (4001) and size (4002) are checked while streaming.
 * busboy and `node:crypto` are loaded lazily; where they cannot be loaded (a browser running
 * msw), `Request.formData()` is the fallback.
 *
 * @module
 */

import { ACCEPTED_LIST, ACCEPTED_TYPES, CODES, MIME_TO_EXT } from './protocol.js';
import { extensionOf } from './util.js';

/** A file part as seen by the emulator. */
export interface ParsedFile {
  field: string;
  filename: string;
  mimeType: string;
  size: number;
  fileType: 'video' | 'image' | 'audio' | undefined;
  hash?: string;
}

/** A rejection of the upload. */
export interface UploadVerdict {
  code: number;
  message: string;
  httpStatus?: number;
}

/** Result of a complete parse. */
export interface ParsedUpload {
  files: ParsedFile[];
  fields: Record<string, string>;
  error: UploadVerdict | undefined;
}

/** A parse in progress: the first error is known as soon as it is seen. */
export interface MultipartParse {
  firstError: Promise<UploadVerdict>;
  done: Promise<ParsedUpload>;
}

/** The `file_type` for a file name / MIME type, or undefined when not accepted. */
export function fileTypeOf(
  filename: string,
  mimeType: string,
): 'video' | 'image' | 'audio' | undefined {
  const ext = extensionOf(filename) || MIME_TO_EXT[mimeType.toLowerCase()] || '';
  return ACCEPTED_TYPES[ext];
}

/** Parse a multipart request body. `field` is the only accepted file field. */
export function parseMultipart(request: Request, maxBytes: number, field: string): MultipartParse {
  let reportError!: (v: UploadVerdict) => void;
  const firstError = new Promise<UploadVerdict>((resolve) => {
    reportError = resolve;
  });
  const result: ParsedUpload = { files: [], fields: {}, error: undefined };
  const fail = (v: UploadVerdict) => {
    if (result.error) return;
    result.error = v;
    reportError(v);
  };
  const check = (file: ParsedFile): boolean => {
    if (file.field !== field) {
      fail({
        code: CODES.badRequest,
        httpStatus: 400,
        message: `unexpected file field "${file.field}": files go in the repeatable field "${field}"`,
      });
      return false;
    }
    if (!file.fileType) {
      fail({
        code: CODES.unsupportedType,
        message: `Unsupported file type: ${file.filename || file.mimeType}. Accepted formats: ${ACCEPTED_LIST}`,
      });
      return false;
    }
    return true;
  };
  const tooLarge = (file: ParsedFile) =>
    fail({
      code: CODES.fileTooLarge,
      message: `File too large: ${file.filename} exceeds the limit of ${maxBytes} bytes`,
    });

  const done = (async (): Promise<ParsedUpload> => {
    let parsedWithBusboy = false;
    try {
      parsedWithBusboy = await viaBusboy(request, maxBytes, result, check, tooLarge, fail);
    } catch (error) {
      fail({
        code: CODES.badRequest,
        httpStatus: 400,
        message: `malformed multipart body: ${String(error)}`,
      });
    }
    if (!parsedWithBusboy && !result.error)
      await viaFormData(request, maxBytes, result, check, tooLarge);
    if (!result.error && result.files.length === 0) {
      fail({ code: CODES.badRequest, httpStatus: 400, message: `no file in the field "${field}"` });
    }
    return result;
  })();
  return { firstError, done };
}

type BusboyModule = typeof import('busboy');

async function loadBusboy(): Promise<
  { busboy: BusboyModule; createHash: typeof import('node:crypto').createHash } | undefined
> {
  try {
    const [bb, nodeCrypto] = await Promise.all([import('busboy'), import('node:crypto')]);
    const busboy = ((bb as { default?: BusboyModule }).default ?? bb) as BusboyModule;
    return { busboy, createHash: nodeCrypto.createHash };
  } catch {
    return undefined;
  }
}

async function viaBusboy(
  request: Request,
  maxBytes: number,
  result: ParsedUpload,
  check: (f: ParsedFile) => boolean,
  tooLarge: (f: ParsedFile) => void,
  fail: (v: UploadVerdict) => void,
): Promise<boolean> {
  const mod = await loadBusboy();
  if (!mod) return false;
  const body = request.body;
  const bb = mod.busboy({
    headers: { 'content-type': request.headers.get('content-type') ?? '' },
    // Browsers and undici send UTF-8 file names as raw bytes (RFC 7578), not Latin-1.
    defParamCharset: 'utf8',
    // busboy reports 'limit' on reaching fileSize exactly: allow one byte more to detect "over".
    limits: { fileSize: maxBytes + 1 },
  });
  bb.on('file', (name, stream, info) => {
    const file: ParsedFile = {
      field: name,
      filename: info.filename ?? '',
      mimeType: info.mimeType,
      size: 0,
      fileType: fileTypeOf(info.filename ?? '', info.mimeType),
    };
    result.files.push(file);
    // A broken form destroys the current file stream with the parser's error (reported below).
    stream.on('error', () => undefined);
    if (!check(file)) {
      stream.resume();
      return;
    }
    const hash = mod.createHash('md5');
    stream.on('data', (chunk: Uint8Array) => {
      file.size += chunk.byteLength;
      hash.update(chunk);
    });
    stream.on('limit', () => tooLarge(file));
    stream.on('end', () => {
      file.hash = hash.digest('hex');
    });
  });
  bb.on('field', (name, value) => {
    result.fields[name] = value;
  });
  let parserError: unknown;
  const finished = new Promise<void>((resolve) => {
    bb.on('close', () => resolve());
    bb.on('error', (error: unknown) => {
      parserError = error;
      resolve();
    });
  });
  if (body) {
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (parserError !== undefined) continue; // drain what the client still sends
      if (!bb.write(value)) {
        await new Promise<void>((resolve) => {
          const onDone = () => {
            bb.off('drain', onDone);
            bb.off('error', onDone);
            bb.off('close', onDone);
            resolve();
          };
          bb.on('drain', onDone);
          bb.on('error', onDone);
          bb.on('close', onDone);
        });
      }
    }
  }
  if (parserError === undefined) bb.end();
  await finished;
  if (parserError !== undefined) {
    fail({
      code: CODES.badRequest,
      httpStatus: 400,
      message: `malformed multipart body: ${parserError instanceof Error ? parserError.message : String(parserError)}`,
    });
  }
  return true;
}

async function viaFormData(
  request: Request,
  maxBytes: number,
  result: ParsedUpload,
  check: (f: ParsedFile) => boolean,
  tooLarge: (f: ParsedFile) => void,
): Promise<void> {
  const form = await request.formData();
  for (const [name, value] of form.entries()) {
    if (typeof value === 'string') {
      result.fields[name] = value;
      continue;
    }
    const file: ParsedFile = {
      field: name,
      filename: value.name,
      mimeType: value.type || 'application/octet-stream',
      size: value.size,
      fileType: fileTypeOf(value.name, value.type),
    };
    result.files.push(file);
    if (check(file) && value.size > maxBytes) tooLarge(file);
  }
}
