/**
 * Lazy access to Node built-ins. They are imported only when a Node-only
 * feature is used (client id file, token file, paths, downloads to disk), so the
 * browser build never pulls in `node:fs`.
 */
export function nodeFs(): Promise<typeof import('node:fs/promises')> {
  return import('node:fs/promises');
}
export function nodeFsSync(): Promise<typeof import('node:fs')> {
  return import('node:fs');
}
export function nodePath(): Promise<typeof import('node:path')> {
  return import('node:path');
}
export function nodeOs(): Promise<typeof import('node:os')> {
  return import('node:os');
}
