import { MediaEngineError } from '../media-engine.js';

/**
 * Janus errors → the port's codes. Two sources: the Janus core (`{"janus":"error","error":{code}}`,
 * codes 4xx of janus.h) and the VideoRoom plugin (`plugindata.data.error_code`, codes 42x–43x of
 * janus_videoroom.c). Anything unexpected is `unavailable`: room logic then treats the media server
 * as away (a misconfigured or broken Janus is, for a class, the same as a Janus that is down).
 */

/** Janus core (janus/apierror.h). */
export const JANUS_CORE = {
  unauthorized: 403,
  sessionNotFound: 458,
  handleNotFound: 459,
  jsepUnknownType: 460,
  jsepInvalidSdp: 461,
  trickleInvalidStream: 462,
  invalidElementType: 463,
  unexpectedAnswer: 465,
  webrtcState: 467,
  notAcceptingSessions: 468,
} as const;

/** VideoRoom plugin (janus_videoroom.c). */
export const VIDEOROOM = {
  noSuchRoom: 426,
  roomExists: 427,
  noSuchFeed: 428,
  missingElement: 429,
  invalidElement: 430,
  invalidSdpType: 431,
  publishersFull: 432,
  unauthorized: 433,
  alreadyPublished: 434,
  notPublished: 435,
  idExists: 436,
  invalidSdp: 437,
} as const;

export type MediaErrorCode = MediaEngineError['code'];

export function codeForJanusCore(code: number): MediaErrorCode {
  switch (code) {
    case JANUS_CORE.jsepUnknownType:
    case JANUS_CORE.jsepInvalidSdp:
    case JANUS_CORE.trickleInvalidStream:
    case JANUS_CORE.unexpectedAnswer:
    case JANUS_CORE.webrtcState:
      return 'bad_signal';
    default:
      // 458/459 (session or handle gone) are handled by the adapter (reconnection) before this;
      // 403 (wrong API secret), 468 (Janus shutting down) and the rest: the server is not usable.
      return 'unavailable';
  }
}

export function codeForVideoRoom(code: number): MediaErrorCode {
  switch (code) {
    case VIDEOROOM.noSuchRoom:
      return 'room_unknown';
    case VIDEOROOM.noSuchFeed:
      return 'participant_unknown';
    case VIDEOROOM.publishersFull:
      return 'full';
    case VIDEOROOM.invalidSdpType:
    case VIDEOROOM.invalidSdp:
      return 'bad_signal';
    default:
      return 'unavailable';
  }
}

/** An error answered by Janus, before it is mapped (the adapter still needs the raw code for 427, 458…). */
export class JanusError extends Error {
  constructor(
    readonly source: 'core' | 'videoroom',
    readonly janusCode: number,
    message: string,
  ) {
    super(`Janus ${source} ${janusCode}: ${message}`);
    this.name = 'JanusError';
  }

  toMediaError(): MediaEngineError {
    const code = this.source === 'core' ? codeForJanusCore(this.janusCode) : codeForVideoRoom(this.janusCode);
    return new MediaEngineError(code, this.message);
  }
}

/** Any failure → a `MediaEngineError` (already one: unchanged; a Janus answer: mapped; the rest: `unavailable`). */
export function toMediaEngineError(error: unknown): MediaEngineError {
  if (error instanceof MediaEngineError) return error;
  if (error instanceof JanusError) return error.toMediaError();
  return new MediaEngineError('unavailable', `Janus : ${error instanceof Error ? error.message : String(error)}`);
}
