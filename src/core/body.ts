/**
 * Bounded reading of a response body. `fetch` decompresses transparently, so a
 * small gzip body can inflate without bound (a "gzip bomb"): the bytes are
 * counted as they are decoded, and the stream is cancelled as soon as the count
 * passes the cap, before the rest is inflated.
 */

/** Default cap on a JSON response body (after decompression): 8 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** How much of an error body is read to find the service's message: 64 KiB. The rest is dropped. */
export const ERROR_BODY_BYTES = 64 * 1024;

/** A body read up to a cap. */
export interface BoundedText {
  text: string;
  /** The body was longer than the cap: `text` holds its first `cap` bytes, the rest was not read. */
  overflowed: boolean;
}

/** Reads a body chunk by chunk (a web stream reader, or node:http's). */
export interface ChunkSource {
  read(): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }>;
  cancel(reason?: unknown): Promise<void>;
}

/**
 * Read at most `cap` bytes of `source` as UTF-8. Past the cap the source is
 * cancelled (releasing the connection) and `overflowed` is set.
 */
export async function readBounded(
  source: ChunkSource | undefined,
  cap: number,
): Promise<BoundedText> {
  if (!source) return { text: '', overflowed: false };
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  try {
    for (;;) {
      const next = await source.read();
      if (next.done) return { text: text + decoder.decode(), overflowed: false };
      const chunk = next.value;
      if (bytes + chunk.byteLength > cap) {
        text += decoder.decode(chunk.subarray(0, Math.max(0, cap - bytes)));
        await source.cancel().catch(() => {});
        return { text, overflowed: true };
      }
      bytes += chunk.byteLength;
      text += decoder.decode(chunk, { stream: true });
    }
  } catch (error) {
    await source.cancel(error).catch(() => {});
    throw error;
  }
}

/** A web `Response` body as a {@link ChunkSource}. */
export function webBody(response: Response): ChunkSource | undefined {
  const reader = response.body?.getReader();
  if (!reader) return undefined;
  return {
    read: () =>
      reader.read() as Promise<
        { done: true; value?: undefined } | { done: false; value: Uint8Array }
      >,
    cancel: (reason) => reader.cancel(reason),
  };
}
