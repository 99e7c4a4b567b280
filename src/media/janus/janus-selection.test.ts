import { describe, expect, it } from 'vitest';
import { MediaEngineError } from '../media-engine.js';
import { JanusError, codeForJanusCore, codeForVideoRoom, toMediaEngineError } from './janus-errors.js';
import { mayPublish, streamsOfOffer, subscriberChoice } from './janus-selection.js';

const offer = (...sections: string[]) => `v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n${sections.join('')}`;
const m = (media: string, mid: string, ...extra: string[]) => `m=${media} 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:${mid}\r\n${extra.map((e) => `${e}\r\n`).join('')}`;

describe('streamsOfOffer', () => {
  it('audio, puis la première vidéo = caméra, la suivante = écran', () => {
    expect(streamsOfOffer(offer(m('audio', '0', 'a=sendonly'), m('video', '1', 'a=sendonly'), m('video', '2', 'a=sendonly')))).toEqual([
      { mid: '0', kind: 'audio' }, { mid: '1', kind: 'camera' }, { mid: '2', kind: 'screen' },
    ]);
  });
  it('a=content:slides désigne l’écran même en première vidéo ; recvonly, inactive, port 0 et données ignorés', () => {
    const sdp = offer(m('video', 'a', 'a=content:slides'), m('audio', 'b', 'a=recvonly'), m('video', 'c', 'a=inactive'), 'm=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=mid:d\r\n', m('application', 'e'));
    expect(streamsOfOffer(sdp)).toEqual([{ mid: 'a', kind: 'screen' }]);
  });
  it('refuse ce qui n’est pas une SDP avec des sections média identifiées', () => {
    expect(streamsOfOffer('pas une SDP')).toBeUndefined();
    expect(streamsOfOffer(offer())).toBeUndefined();
    expect(streamsOfOffer(offer('m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendonly\r\n'))).toBeUndefined();
    expect(streamsOfOffer(offer(...Array.from({ length: 17 }, (_, i) => m('audio', String(i)))))).toBeUndefined();
  });
});

describe('droits d’envoi et échelle de dégradation', () => {
  it('un flux n’est relayé que si le participant a le droit de l’envoyer', () => {
    const rights = { audio: true, camera: false, screen: true };
    expect([mayPublish(rights, 'audio'), mayPublish(rights, 'camera'), mayPublish(rights, 'screen')]).toEqual([true, false, true]);
  });

  const teacher = { id: 'prof', role: 'teacher' as const };
  const pupil = { id: 'e1', role: 'pupil' as const };
  const at = (level: Parameters<typeof subscriberChoice>[0]['level'], camerasOf: string[] = ['e1']) => ({ level, camerasOf });

  it('l’audio n’est jamais coupé par choix', () => {
    for (const level of ['full', 'no-pupil-video', 'teacher-low', 'screen-only', 'audio-only'] as const) {
      expect(subscriberChoice(at(level), teacher, 'audio').send).toBe(true);
      expect(subscriberChoice(at(level), pupil, 'audio').send).toBe(true);
    }
  });
  it('caméra du professeur : meilleure couche, puis la plus basse, puis coupée', () => {
    expect(subscriberChoice(at('full'), teacher, 'camera')).toEqual({ send: true, substream: 2, temporal: 2 });
    expect(subscriberChoice(at('no-pupil-video'), teacher, 'camera')).toEqual({ send: true, substream: 2, temporal: 2 });
    expect(subscriberChoice(at('teacher-low'), teacher, 'camera')).toEqual({ send: true, substream: 0, temporal: 0 });
    expect(subscriberChoice(at('screen-only'), teacher, 'camera').send).toBe(false);
    expect(subscriberChoice(at('audio-only'), teacher, 'camera').send).toBe(false);
  });
  it('caméra d’un élève : seulement en « full » et seulement s’il fait partie des derniers orateurs choisis', () => {
    expect(subscriberChoice(at('full'), pupil, 'camera').send).toBe(true);
    expect(subscriberChoice(at('full', []), pupil, 'camera').send).toBe(false);
    expect(subscriberChoice(at('no-pupil-video'), pupil, 'camera').send).toBe(false);
  });
  it('écran : jusqu’à « audio-only », à la fréquence la plus basse dès « screen-only »', () => {
    expect(subscriberChoice(at('teacher-low'), teacher, 'screen')).toEqual({ send: true, temporal: 2 });
    expect(subscriberChoice(at('screen-only'), teacher, 'screen')).toEqual({ send: true, temporal: 0 });
    expect(subscriberChoice(at('audio-only'), teacher, 'screen').send).toBe(false);
  });
});

describe('erreurs Janus → codes du port', () => {
  it('cœur et VideoRoom', () => {
    expect(codeForJanusCore(461)).toBe('bad_signal');
    expect(codeForJanusCore(465)).toBe('bad_signal');
    expect(codeForJanusCore(403)).toBe('unavailable');
    expect(codeForJanusCore(468)).toBe('unavailable');
    expect(codeForVideoRoom(426)).toBe('room_unknown');
    expect(codeForVideoRoom(428)).toBe('participant_unknown');
    expect(codeForVideoRoom(432)).toBe('full');
    expect(codeForVideoRoom(437)).toBe('bad_signal');
    expect(codeForVideoRoom(499)).toBe('unavailable');
  });
  it('tout le reste est « unavailable » ; une MediaEngineError passe telle quelle', () => {
    expect(toMediaEngineError(new Error('boom')).code).toBe('unavailable');
    expect(toMediaEngineError(new JanusError('videoroom', 432, 'plein')).code).toBe('full');
    const same = new MediaEngineError('bad_signal', 'x');
    expect(toMediaEngineError(same)).toBe(same);
  });
});

describe('compteurs de l’API d’administration', () => {
  it('additionne les paquets envoyés sur chaque média d’un abonné ; rien sans statistiques', async () => {
    const { subscriberPacketsSent } = await import('./janus-media-engine.js');
    expect(subscriberPacketsSent({ webrtc: { media: { '0': { stats: { out: { packets: 75 } } }, '1': { stats: { out: { packets: 46 } } } } } })).toBe(121);
    expect(subscriberPacketsSent({ webrtc: { media: { '0': { stats: {} } } } })).toBe(0);
    expect(subscriberPacketsSent({})).toBe(0);
  });
});
