/**
 * Framing on the attach socket: docker's 8-byte stream header (type, 3 zero bytes, u32
 * big-endian payload length), with berth's control types added (docs/monitor.md).
 */
export const FRAME = {
  stdin: 0,
  stdout: 1,
  stderr: 2,
  resize: 16,
  closeStdin: 17,
  start: 18,
  startResult: 19,
  noRestart: 20,
  exit: 21,
  ping: 22,
  pong: 23,
} as const;
export type FrameType = (typeof FRAME)[keyof typeof FRAME];

export const HEADER_SIZE = 8;
/** The monitor drops a client that sends a larger payload. */
export const MAX_CLIENT_PAYLOAD = 32768;

export function encodeFrame(type: FrameType, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(HEADER_SIZE + payload.length);
  b[0] = type;
  b.writeUInt32BE(payload.length, 4);
  Buffer.from(payload.buffer, payload.byteOffset, payload.length).copy(b, HEADER_SIZE);
  return b;
}

export function encodeResize(rows: number, cols: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt16BE(rows, 0);
  p.writeUInt16BE(cols, 2);
  return encodeFrame(FRAME.resize, p);
}

/** Incremental decoder: push bytes, get the complete frames. */
export class FrameDecoder {
  #buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { type: number; payload: Buffer }[] {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    const out: { type: number; payload: Buffer }[] = [];
    while (this.#buf.length >= HEADER_SIZE) {
      const n = this.#buf.readUInt32BE(4);
      if (this.#buf.length < HEADER_SIZE + n) break;
      out.push({ type: this.#buf[0], payload: this.#buf.subarray(HEADER_SIZE, HEADER_SIZE + n) });
      this.#buf = this.#buf.subarray(HEADER_SIZE + n);
    }
    return out;
  }
}
