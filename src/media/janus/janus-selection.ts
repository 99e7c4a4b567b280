import type { DegradeLevel, SendRights } from '../media-engine.js';

/**
 * Pure rules of the Janus adapter: what a publisher's offer carries, and what each subscriber
 * receives of each published stream at its rung of the degradation ladder. The adapter applies
 * them with VideoRoom requests (`configure` of the publisher's streams for send rights, `configure`
 * of the subscriber's streams — `send`, `substream`, `temporal` — for the ladder).
 */

export type StreamKind = 'audio' | 'camera' | 'screen';

export interface PublishedStream {
  mid: string;
  kind: StreamKind;
}

/** The largest offer this adapter reads (the port already caps a signal at MEDIA_SIGNAL_MAX_BYTES). */
const MAX_MEDIA_SECTIONS = 16;

/**
 * The streams a publisher's offer sends, in order. Which video is the camera and which the shared
 * screen: a video section marked `a=content:slides` (RFC 4796) is the screen; otherwise the first
 * sending video is the camera and the next one the screen (the order of `send` in the `publish`
 * connection: audio, camera, screen). Sections that send nothing (recvonly, inactive, port 0) are
 * skipped. `undefined` when the text is not an SDP with media sections (refused as `bad_signal`).
 */
export function streamsOfOffer(sdp: string): PublishedStream[] | undefined {
  if (!sdp.startsWith('v=0')) return undefined;
  const sections = sdp.split(/\r?\nm=/).slice(1);
  if (sections.length === 0 || sections.length > MAX_MEDIA_SECTIONS) return undefined;
  const streams: PublishedStream[] = [];
  let videos = 0;
  for (const section of sections) {
    const lines = section.split(/\r?\n/);
    const [media, port] = lines[0]!.split(' ');
    const mid = lines.find((l) => l.startsWith('a=mid:'))?.slice('a=mid:'.length).trim();
    if (mid === undefined || mid.length === 0) return undefined;
    if (media !== 'audio' && media !== 'video') continue; // data channels: not media
    if (port === '0' || lines.some((l) => l === 'a=recvonly' || l === 'a=inactive')) continue;
    if (media === 'audio') {
      streams.push({ mid, kind: 'audio' });
      continue;
    }
    const slides = lines.some((l) => l.trim() === 'a=content:slides');
    streams.push({ mid, kind: slides || videos > 0 ? 'screen' : 'camera' });
    videos++;
  }
  return streams;
}

/** Whether a publisher may send a stream of this kind (Janus relays it or not: `streams[].send`). */
export function mayPublish(rights: SendRights, kind: StreamKind): boolean {
  return rights[kind];
}

/** What one subscriber gets of one stream. `substream`/`temporal` only act on simulcast publishers. */
export interface SubscribedStreamChoice {
  send: boolean;
  /** 0 (lowest resolution) … 2 (highest); undefined: leave Janus' default (highest available). */
  substream?: 0 | 1 | 2;
  /** 0 (lowest frame rate) … 2 (all frames). */
  temporal?: 0 | 1 | 2;
}

export interface SubscriberView {
  level: DegradeLevel;
  camerasOf: readonly string[];
}

export interface PublisherView {
  id: string;
  role: 'teacher' | 'pupil';
}

/**
 * The ladder of issue 8 for one subscriber and one stream:
 * - audio always (never degraded by choice);
 * - a teacher's camera: best layer up to `no-pupil-video`, lowest layer and frame rate at
 *   `teacher-low`, off from `screen-only`;
 * - a pupil's camera: only at `full` and only if the room picked it (`camerasOf`, the last active speakers);
 * - the screen: on until `audio-only`, at the lowest frame rate from `screen-only`.
 */
export function subscriberChoice(subscriber: SubscriberView, publisher: PublisherView, kind: StreamKind): SubscribedStreamChoice {
  const { level } = subscriber;
  if (kind === 'audio') return { send: true };
  if (kind === 'screen') {
    if (level === 'audio-only') return { send: false };
    return level === 'screen-only' ? { send: true, temporal: 0 } : { send: true, temporal: 2 };
  }
  if (publisher.role === 'teacher') {
    if (level === 'full' || level === 'no-pupil-video') return { send: true, substream: 2, temporal: 2 };
    if (level === 'teacher-low') return { send: true, substream: 0, temporal: 0 };
    return { send: false };
  }
  return { send: level === 'full' && subscriber.camerasOf.includes(publisher.id), substream: 2, temporal: 2 };
}
