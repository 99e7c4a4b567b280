import { describe, expect, it } from 'vitest';
import type { ParticipantMedia } from '../media-engine.js';
import { flushTrailing, newKeyframeGate, requestKeyframe } from './keyframe.js';
import { wanted } from './sfu-room.js';
import { newSpeakingState, observeAudioLevel, SPEAKING } from './speaking.js';
import { parseVp8, vp8Descriptor } from './vp8.js';

describe('keyframe coalescing', () => {
  it('lets one request through per interval, owes one trailing request, and never more', () => {
    const gate = newKeyframeGate();
    expect(requestKeyframe(gate, 1_000, 1_000)).toEqual({ send: true });
    expect(requestKeyframe(gate, 1_100, 1_000)).toEqual({ send: false, retryInMs: 900 });
    for (let t = 1_200; t < 2_000; t += 10) expect(requestKeyframe(gate, t, 1_000)).toEqual({ send: false, retryInMs: undefined });
    expect(flushTrailing(gate, 1_999, 1_000)).toBe(false);
    expect(flushTrailing(gate, 2_000, 1_000)).toBe(true);
    expect(flushTrailing(gate, 2_001, 1_000)).toBe(false);
    expect(requestKeyframe(gate, 2_500, 1_000).send).toBe(false);
    expect(requestKeyframe(gate, 3_000, 1_000)).toEqual({ send: true });
  });

  it('sends nothing trailing when no request came inside the window', () => {
    const gate = newKeyframeGate();
    requestKeyframe(gate, 0, 1_000);
    expect(flushTrailing(gate, 5_000, 1_000)).toBe(false);
  });
});

describe('speaking detection', () => {
  const feed = (s: ReturnType<typeof newSpeakingState>, level: number, from: number, ms: number) => {
    const changes: boolean[] = [];
    for (let t = from; t < from + ms; t += 20) {
      const c = observeAudioLevel(s, level, t);
      if (c !== undefined) changes.push(c);
    }
    return changes;
  };

  it('starts on voiced audio and stops only after several quiet windows (hysteresis)', () => {
    const s = newSpeakingState(0);
    expect(feed(s, 30, 0, 1_000)).toEqual([true]);
    expect(feed(s, 120, 1_000, SPEAKING.windowMs * (SPEAKING.stopWindows - 1))).toEqual([]);
    expect(feed(s, 120, 1_000 + SPEAKING.windowMs * (SPEAKING.stopWindows - 1), SPEAKING.windowMs * 2)).toEqual([false]);
  });

  it('stays silent on a quiet sender', () => {
    expect(feed(newSpeakingState(0), 110, 0, 5_000)).toEqual([]);
  });
});

describe('VP8 payload descriptor', () => {
  it('reads frame start, keyframe and temporal layer of what the synthetic sender writes', () => {
    const key = Buffer.concat([vp8Descriptor({ frameStart: true, pictureId: 300, tid: 0, layerSync: false, tl0PicIdx: 7 }), Buffer.from([0x10, 0, 0])]);
    expect(parseVp8(key)).toEqual({ frameStart: true, keyframe: true, tid: 0 });
    const delta = Buffer.concat([vp8Descriptor({ frameStart: true, pictureId: 301, tid: 1, layerSync: true, tl0PicIdx: 7 }), Buffer.from([0x11, 0, 0])]);
    expect(parseVp8(delta)).toEqual({ frameStart: true, keyframe: false, tid: 1 });
    const middle = Buffer.concat([vp8Descriptor({ frameStart: false, pictureId: 301, tid: 1, layerSync: true, tl0PicIdx: 7 }), Buffer.from([0x10, 0, 0])]);
    expect(parseVp8(middle)).toEqual({ frameStart: false, keyframe: false, tid: 1 });
  });

  it('reads a minimal descriptor without extensions, and refuses a truncated one', () => {
    expect(parseVp8(Buffer.from([0x10, 0x00, 0, 0]))).toEqual({ frameStart: true, keyframe: true, tid: undefined });
    expect(parseVp8(Buffer.from([0x90, 0x80]))).toBeUndefined();
    expect(parseVp8(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('what a subscriber receives at each rung of the ladder', () => {
  const sub = (level: ParticipantMedia['level'], camerasOf: string[] = ['p1']): ParticipantMedia => ({ role: 'pupil', send: { audio: false, camera: false, screen: false }, camerasOf, level });
  const teacher = { id: 't', media: { role: 'teacher', send: { audio: true, camera: true, screen: true }, camerasOf: [], level: 'full' } as ParticipantMedia };
  const pupil = { id: 'p1', media: { role: 'pupil', send: { audio: true, camera: true, screen: false }, camerasOf: [], level: 'full' } as ParticipantMedia };

  it.each([
    ['full', 'all', 'all', 'all', 'all'],
    ['no-pupil-video', 'all', 'all', 'none', 'all'],
    ['teacher-low', 'all', 'base', 'none', 'all'],
    ['screen-only', 'all', 'none', 'none', 'base'],
    ['audio-only', 'all', 'none', 'none', 'none'],
  ] as const)('%s: audio %s, teacher camera %s, pupil camera %s, screen %s', (level, audio, teacherCam, pupilCam, screen) => {
    expect(wanted(sub(level), teacher, 'audio')).toBe(audio);
    expect(wanted(sub(level), teacher, 'camera')).toBe(teacherCam);
    expect(wanted(sub(level), pupil, 'camera')).toBe(pupilCam);
    expect(wanted(sub(level), teacher, 'screen')).toBe(screen);
  });

  it('forwards a pupil camera only to those whose camerasOf names the pupil', () => {
    expect(wanted(sub('full', []), pupil, 'camera')).toBe('none');
    expect(wanted(sub('full', ['p1']), pupil, 'camera')).toBe('all');
  });
});
