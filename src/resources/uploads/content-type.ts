/** MIME types of the formats the service accepts (and a few close relatives). */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  mov: 'video/quicktime',
  avi: 'video/x-msvideo',
  webm: 'video/webm',
  mkv: 'video/x-matroska',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
};

/** The extension of a file name, lower case, without the dot; `''` when it has none. */
export function extensionOf(filename: string): string {
  const base = filename.replace(/^.*[\\/]/, '');
  const dot = base.lastIndexOf('.');
  return dot > 0 && dot < base.length - 1 ? base.slice(dot + 1).toLowerCase() : '';
}

/** `Content-Type` for a file name: from its extension, else `fallback`, else `application/octet-stream`. */
export function contentTypeFor(filename: string, fallback?: string): string {
  return CONTENT_TYPES[extensionOf(filename)] ?? (fallback || 'application/octet-stream');
}

/** `video`, `image` or `audio` from a content type; `undefined` for anything else. */
export function mediaKindOf(contentType: string): 'video' | 'image' | 'audio' | undefined {
  const top = contentType.split('/')[0]?.toLowerCase();
  return top === 'video' || top === 'image' || top === 'audio' ? top : undefined;
}
