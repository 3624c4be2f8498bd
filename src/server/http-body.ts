import type { IncomingMessage } from 'node:http';

export type BodyResult =
  | { readonly ok: true; readonly body: Buffer }
  | {
      readonly ok: false;
      readonly status: 413 | 415;
      readonly code: 'payload_too_large' | 'unsupported_media_type';
      readonly message: string;
    }
  /** The peer went away mid-body: nobody to answer. */
  | { readonly ok: false; readonly status: 0 };

/** application/json, or any +json type, with optional parameters (charset). */
const isJson = (contentType: string | undefined): boolean => {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/json' || (type?.startsWith('application/') === true && type.endsWith('+json'));
};

/**
 * Reads a JSON request body of at most maxBytes. A declared Content-Length over the limit is
 * refused before reading a byte; a chunked body is cut off as soon as it passes the limit.
 */
export function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  if (!isJson(req.headers['content-type'])) {
    return Promise.resolve({
      ok: false,
      status: 415,
      code: 'unsupported_media_type',
      message: 'send the body as Content-Type: application/json',
    });
  }
  const tooLarge = {
    ok: false,
    status: 413,
    code: 'payload_too_large',
    message: `the body may be at most ${maxBytes} bytes`,
  } as const;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve(tooLarge);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: BodyResult): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('aborted', onGone);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        // Stop buffering; the answer goes out with Connection: close, which ends the rest.
        req.pause();
        done(tooLarge);
      } else chunks.push(chunk);
    };
    const onEnd = (): void => done({ ok: true, body: Buffer.concat(chunks, size) });
    const onGone = (): void => done({ ok: false, status: 0 });
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onGone);
    req.once('aborted', onGone);
  });
}
