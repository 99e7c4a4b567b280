/**
 * The few bits of a VP8 RTP payload (RFC 7741) the SFU reads to choose what to forward without
 * decoding: where a frame starts, whether it is a keyframe, and its temporal layer (TID) when the
 * sender uses temporal scalability. Everything else is forwarded untouched.
 */
export interface Vp8Info {
  /** First packet of a frame (S bit set and partition 0). */
  frameStart: boolean;
  /** The frame is a keyframe (only meaningful when `frameStart`). */
  keyframe: boolean;
  /** Temporal layer id when the descriptor carries one (T bit), else undefined. */
  tid: number | undefined;
}

/** Parses a VP8 payload descriptor; undefined when the payload is too short to be VP8. */
export function parseVp8(payload: Uint8Array): Vp8Info | undefined {
  if (payload.length < 1) return undefined;
  const b0 = payload[0]!;
  const x = (b0 & 0x80) !== 0;
  const s = (b0 & 0x10) !== 0;
  const pid = b0 & 0x07;
  let i = 1;
  let tid: number | undefined;
  if (x) {
    if (payload.length < 2) return undefined;
    const b1 = payload[1]!;
    i = 2;
    const hasI = (b1 & 0x80) !== 0;
    const hasL = (b1 & 0x40) !== 0;
    const hasT = (b1 & 0x20) !== 0;
    const hasK = (b1 & 0x10) !== 0;
    if (hasI) {
      if (payload.length <= i) return undefined;
      i += (payload[i]! & 0x80) !== 0 ? 2 : 1;
    }
    if (hasL) i += 1;
    if (hasT || hasK) {
      if (payload.length <= i) return undefined;
      if (hasT) tid = (payload[i]! >> 6) & 0x03;
      i += 1;
    }
  }
  if (payload.length <= i) return undefined;
  const frameStart = s && pid === 0;
  // VP8 payload header: P bit (bit 0 of the first byte) is 0 for a keyframe.
  const keyframe = frameStart && (payload[i]! & 0x01) === 0;
  return { frameStart, keyframe, tid };
}

/** Builds a VP8 payload descriptor with a picture id and a temporal layer id (synthetic senders). */
export function vp8Descriptor(opts: { frameStart: boolean; pictureId: number; tid: number; layerSync: boolean; tl0PicIdx: number }): Buffer {
  const out = Buffer.alloc(6);
  out[0] = 0x80 | (opts.frameStart ? 0x10 : 0); // X, S, PID 0
  out[1] = 0x80 | 0x40 | 0x20; // I, L, T
  out.writeUInt16BE(0x8000 | (opts.pictureId & 0x7fff), 2); // M bit: 15-bit picture id
  out[4] = opts.tl0PicIdx & 0xff;
  out[5] = ((opts.tid & 0x03) << 6) | (opts.layerSync ? 0x20 : 0);
  return out;
}
