/**
 * The classe virtuelle in chromium (issue 8): a teacher and three pupils of 6e A, and a pupil of
 * another class, each in a context of their own in one headless chromium with fake media devices,
 * all through the embedded media engine (werift SFU in a worker thread) of one served Préau:
 * - the journey: the lobby holds pupils until the teacher opens, a pupil joins from Aujourd'hui in one
 *   click, a raised hand reaches the teacher, the floor given reaches the pupil (announced, and the
 *   engine is told the pupil may send audio), chat and a poll work, a pupil of another class is
 *   refused (and never reaches the engine), the teacher reads the attendance once the class has
 *   ended (pupils do not see it), and axe-core finds nothing on the room pages (a phone's width
 *   included);
 * - media: pupils hear the teacher (audio energy above silence) and, once given the floor, a pupil;
 *   they decode the teacher's screen and camera, the camera sent in VP8 temporal layers.
 */
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedMediaEngine } from '../../src/media/embedded/embedded-engine.js';
import type { ParticipantMedia } from '../../src/media/media-engine.js';
import { chromiumAvailable, expectAccessible, FAKE_MEDIA_FLAGS, horizontalOverflow } from '../support/browser.js';
import { servedBrowserSuite } from '../support/browser-suite.js';
import { addPupils } from '../support/fixtures.js';

const enabled = chromiumAvailable();
const TIMEOUT = { timeout: 15_000 };
/** Media take longer: ICE, DTLS, the first keyframe, on a loaded machine. */
const MEDIA_TIMEOUT = { timeout: 30_000 };
/** The embedded engine's UDP ports in this suite (a range no other test file uses: two files may run at once). */
const ICE_PORTS = [44_000, 44_099] as const;
/**
 * Five people, their media and a media worker on a shared 2-core machine make the event loop lag:
 * the edge's lag-driven shedder (tested on its own in src/edge/) would then refuse a page's chunk or
 * socket with 503. Not what this suite is about: it samples no lag here.
 */
const NO_SHEDDING = { admission: { lagSampleMs: 0 } };
/** Likewise the classe virtuelle's own degradation by node load (unit-tested in degradation.policy.test.ts) would take the teacher's video away here: not this journey's subject. */
const NO_LOAD_DEGRADATION = { degradation: { lagHighMs: 60_000, lagCriticalMs: 120_000, cpuHigh: 10, cpuCritical: 20 } };

/** The teacher creates a class for 6e A from the page (Aujourd'hui first: the app and the server are warm), and gets its id. */
async function createRoom(teacher: Page, origin: string, title: string): Promise<string> {
  await teacher.goto(`${origin}/aujourdhui`);
  await teacher.getByTestId('today-content').waitFor(TIMEOUT);
  await teacher.getByRole('link', { name: 'Classe virtuelle', exact: true }).click();
  await teacher.getByRole('heading', { level: 1, name: 'Classes virtuelles' }).waitFor(TIMEOUT);
  await teacher.getByLabel('Classe ou groupe').selectOption('class:class6A');
  await teacher.getByLabel('Titre (facultatif)').fill(title);
  await teacher.getByRole('button', { name: 'Créer', exact: true }).click();
  const enter = teacher.getByRole('link', { name: `Entrer dans « ${title} »` });
  await enter.waitFor(TIMEOUT);
  return new URL((await enter.getAttribute('href'))!, origin).searchParams.get('salle')!;
}

/** What the room logic told the engine last, per participant (join or update): the engine keeps it to itself. */
function spyMedia(engine: EmbeddedMediaEngine): { last(roomId: string, participantId: string): ParticipantMedia | undefined } {
  const seen = new Map<string, ParticipantMedia>();
  const join = engine.join.bind(engine);
  const update = engine.update.bind(engine);
  engine.join = (roomId, participantId, media) => (seen.set(`${roomId}/${participantId}`, media), join(roomId, participantId, media));
  engine.update = (roomId, participantId, media) => (seen.set(`${roomId}/${participantId}`, media), update(roomId, participantId, media));
  return { last: (roomId, participantId) => seen.get(`${roomId}/${participantId}`) };
}

/** Test instrumentation: the page's peer connections are kept on `window.__pcs` (for getStats). */
const PEER_TRACKER = `(() => {
  const Original = RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = function (...args) { const pc = new Original(...args); window.__pcs.push(pc); return pc; };
  window.RTCPeerConnection.prototype = Original.prototype;
})()`;

/** Page-side measures of what a participant receives (the suite compiles without DOM types: evaluated as source). */
const videoWidth = (page: Page, participant: string, source: string) =>
  page.evaluate(`(() => { const v = document.querySelector('video[data-participant="${participant}"][data-source="${source}"]'); return v ? v.videoWidth : 0; })()`) as Promise<number>;
/** The loudest sample of a participant's audio over about a second (an AnalyserNode on the stream the page plays). 0: silence or no audio. */
const audioPeak = (page: Page, participant: string) =>
  page.evaluate(`(async () => {
    const el = document.querySelector('audio[data-participant="${participant}"]');
    if (!el || !el.srcObject) return 0;
    const ctx = new AudioContext();
    await ctx.resume();
    const analyser = ctx.createAnalyser();
    ctx.createMediaStreamSource(el.srcObject).connect(analyser);
    const data = new Float32Array(analyser.fftSize);
    let peak = 0;
    for (let i = 0; i < 25; i++) {
      await new Promise((r) => setTimeout(r, 50));
      analyser.getFloatTimeDomainData(data);
      for (const x of data) peak = Math.max(peak, Math.abs(x));
    }
    await ctx.close();
    return peak;
  })()`) as Promise<number>;
/** Video frames a page's first peer connection has encoded (outbound) or decoded (inbound) so far. */
const videoFrames = (page: Page, direction: 'outbound' | 'inbound') =>
  page.evaluate(`window.__pcs[0].getStats().then((r) => [...r.values()].filter((s) => s.type === '${direction}-rtp' && s.kind === 'video').reduce((n, s) => n + (s.${direction === 'outbound' ? 'framesEncoded' : 'framesDecoded'} ?? 0), 0))`) as Promise<number>;
/** The scalability modes of the video a page sends (encoders that produced frames). */
const sentScalabilityModes = (page: Page) =>
  page.evaluate(`window.__pcs[0].getStats().then((r) => [...r.values()].filter((s) => s.type === 'outbound-rtp' && s.kind === 'video' && s.framesEncoded > 0).map((s) => s.scalabilityMode ?? null))`) as Promise<(string | null)[]>;
/** Above this, the fake microphone's beep is there (silence is 0; comfort noise stays far below). */
const AUDIBLE_PEAK = 0.01;

describe.skipIf(!enabled)('classe virtuelle in chromium through the embedded media engine', () => {
  const engine = new EmbeddedMediaEngine({ workers: 1, icePortRange: ICE_PORTS, iceAdditionalHostAddresses: ['127.0.0.1'], iceBindAddress: '127.0.0.1' });
  const suite = servedBrowserSuite([{}, { mediaEngine: engine, ...NO_SHEDDING, ...NO_LOAD_DEGRADATION }]);
  afterAll(() => engine.close());
  const told = spyMedia(engine);

  it('lobby until the teacher opens; hand, floor, chat, poll; another class refused; the attendance for the teacher only; accessible', async () => {
    const origin = suite.server.origin;
    const [third] = await addPupils(suite.server.current().storage.db, suite.server.clock, 1, 'eleveweb');
    const people = await suite.openPeople({ args: FAKE_MEDIA_FLAGS });

    // The teacher creates the class for 6e A (ad hoc) from the page.
    const teacher = await people.person(origin, 'teachera');
    const roomId = await createRoom(teacher, origin, 'Maths en direct');
    expect(roomId).toMatch(/^[A-Za-z0-9_-]+$/);
    const enter = teacher.getByRole('link', { name: 'Entrer dans « Maths en direct »' });

    // Two pupils arrive before the teacher has opened: the lobby holds them, and says so.
    const pupil1 = await people.person(origin, 'pupila1');
    const pupil2 = await people.person(origin, 'pupila2');
    for (const pupil of [pupil1, pupil2]) {
      await pupil.goto(`${origin}/classe-virtuelle`);
      await pupil.getByRole('link', { name: 'Rejoindre « Maths en direct »' }).click();
      await pupil.getByTestId('classroom-lobby').getByText('Le professeur n’a pas encore ouvert la classe : vous entrerez automatiquement.').waitFor(TIMEOUT);
    }
    await expectAccessible(pupil1, 'classe virtuelle : salle d’attente');

    // The teacher enters and opens: the pupils are let in by themselves.
    await enter.click();
    await teacher.getByRole('button', { name: 'Ouvrir la classe' }).click();
    for (const pupil of [pupil1, pupil2]) await pupil.locator('[data-person="teacherA"]').waitFor(TIMEOUT);
    await teacher.locator('[data-person="pupilA2"]').getByText('pupilA2 Fixture (élève)').waitFor(TIMEOUT);
    expect(await pupil1.getByTestId('classroom-lobby').count()).toBe(0);

    // The third pupil joins from Aujourd'hui in one click.
    const pupil3 = await people.person(origin, third!);
    await pupil3.goto(`${origin}/aujourdhui`);
    await pupil3.getByTestId('today-classroom').getByRole('link', { name: 'Rejoindre « Maths en direct »' }).click();
    await pupil3.getByRole('heading', { level: 1, name: 'Maths en direct' }).waitFor(TIMEOUT);
    await teacher.getByTestId('classroom-people').getByText('Élève0 Foule (élève)').waitFor(TIMEOUT);

    // A raised hand reaches the teacher (listed, and announced to them).
    await pupil1.getByRole('button', { name: 'Lever la main' }).click();
    await teacher.locator('[data-person="pupilA1"]').getByText('main levée', { exact: false }).waitFor(TIMEOUT);
    await expect.poll(() => teacher.getByTestId('live-region').textContent(), TIMEOUT).toBe('pupilA1 Fixture lève la main.');

    // The floor given reaches the pupil: said on the page and announced.
    await teacher.getByRole('button', { name: 'Donner la parole à pupilA1 Fixture' }).click();
    await pupil1.getByRole('heading', { name: 'Vous avez la parole : votre micro est ouvert.' }).waitFor(TIMEOUT);
    await expect.poll(() => pupil1.getByTestId('live-region').textContent(), TIMEOUT).toBe('La parole vous est donnée.');
    await pupil2.locator('[data-person="pupilA1"]').getByText('a la parole', { exact: false }).waitFor(TIMEOUT);
    // The engine is told: the pupil may now send audio.
    await expect.poll(() => told.last(roomId, 'pupilA1')?.send.audio, TIMEOUT).toBe(true);
    expect(told.last(roomId, 'pupilA2')?.send.audio).toBe(false);

    // Chat: a pupil writes, everyone reads it (announced politely to the others).
    await pupil2.getByLabel('Votre message').fill('Bonjour madame');
    await pupil2.getByRole('button', { name: 'Envoyer' }).click();
    for (const page of [teacher, pupil1, pupil3]) await page.getByTestId('classroom-chat-list').getByText('Bonjour madame').waitFor(TIMEOUT);
    await expect.poll(() => pupil3.getByTestId('live-region').textContent(), TIMEOUT).toBe('Message de pupilA2 Fixture : Bonjour madame');
    // The teacher turns pupils' chat off: the pupils' form goes.
    await teacher.getByRole('button', { name: 'Désactiver la discussion des élèves' }).click();
    await pupil2.getByText('Le professeur a désactivé la discussion des élèves.').waitFor(TIMEOUT);
    expect(await pupil2.getByLabel('Votre message').count()).toBe(0);

    // A poll: the teacher asks, two pupils answer, live results as bars.
    await teacher.getByLabel('Question').fill('Combien font 2 + 2 ?');
    await teacher.getByLabel('Réponses possibles (une par ligne, de 2 à 8)').fill('3\n4');
    await teacher.getByRole('button', { name: 'Lancer le sondage' }).click();
    for (const pupil of [pupil1, pupil2]) {
      const poll = pupil.getByTestId('classroom-poll').filter({ hasText: 'Combien font 2 + 2 ?' });
      await poll.getByRole('radio', { name: '4' }).check(TIMEOUT);
      await poll.getByRole('button', { name: 'Répondre' }).click();
      await poll.getByText('Votre réponse est enregistrée.').waitFor(TIMEOUT);
    }
    await teacher.getByRole('progressbar', { name: '4 : 2 (100 %)' }).waitFor(TIMEOUT);
    await teacher.getByRole('progressbar', { name: '3 : 0 (0 %)' }).waitFor(TIMEOUT);
    await pupil3.getByTestId('classroom-poll').getByRole('radio', { name: '4' }).waitFor(TIMEOUT);

    // The whiteboard's text alternative.
    await pupil1.getByTestId('classroom-board-summary').getByText('Tableau : 0 trait(s)').waitFor(TIMEOUT);

    await expectAccessible(teacher, 'classe virtuelle : professeur dans la salle');
    await expectAccessible(pupil1, 'classe virtuelle : élève dans la salle');
    // A phone's width: nothing needs a big screen.
    await pupil2.setViewportSize({ width: 360, height: 740 });
    expect(await horizontalOverflow(pupil2)).toBeLessThanOrEqual(0);
    await expectAccessible(pupil2, 'classe virtuelle : élève sur un téléphone');

    // A pupil of another class is refused (the room is not found for them; the socket refuses the join).
    const outsider = await people.person(origin, 'pupilb1');
    await outsider.goto(`${origin}/classe-virtuelle?salle=${encodeURIComponent(roomId)}`);
    await outsider.getByRole('alert').getByText('Cette classe virtuelle est introuvable.', { exact: false }).first().waitFor(TIMEOUT);
    expect(await outsider.getByTestId('classroom-people').count()).toBe(0);
    expect(told.last(roomId, 'pupilB1')).toBeUndefined();
    // In the engine: the teacher and the three pupils, connected (each page says so), nobody else.
    for (const page of [teacher, pupil1, pupil2, pupil3]) await page.getByTestId('classroom-connection').getByText('Audio et vidéo : connectés', { exact: false }).waitFor(MEDIA_TIMEOUT);
    await expect.poll(() => teacher.getByTestId('classroom-people').getByTestId('classroom-person').count()).toBe(4);
    expect((await engine.stats(roomId)).participants).toBe(4);

    // The teacher ends the class: the attendance is kept for them, on the list of their classes.
    await teacher.getByRole('button', { name: 'Terminer la classe' }).click();
    await pupil1.getByText('La classe virtuelle est terminée.').waitFor(TIMEOUT);
    await teacher.goto(`${origin}/classe-virtuelle`);
    await teacher.getByText('Présences de « Maths en direct »').click();
    const attendance = teacher.getByTestId('classroom-attendance');
    for (const name of ['pupilA1 Fixture (élève)', 'pupilA2 Fixture (élève)', 'Élève0 Foule (élève)']) await attendance.getByRole('rowheader', { name }).waitFor(TIMEOUT);
    expect(await attendance.getByRole('rowheader', { name: /pupilB1/ }).count()).toBe(0);
    await expectAccessible(teacher, 'classe virtuelle : présences');
    // Pupils do not see it.
    await pupil2.goto(`${origin}/classe-virtuelle`);
    await pupil2.getByTestId('classroom-list').waitFor(TIMEOUT);
    expect(await pupil2.getByText('Présences de « Maths en direct »').count()).toBe(0);
  });

  it('pupils hear the teacher (audio energy above silence); the floor given lets a pupil’s audio reach the others', async () => {
    const origin = suite.server.origin;
    const people = await suite.openPeople({ args: FAKE_MEDIA_FLAGS });
    const teacher = await people.person(origin, 'teachera');
    await teacher.addInitScript(PEER_TRACKER);
    const roomId = await createRoom(teacher, origin, 'Sciences en direct');
    await teacher.getByRole('link', { name: 'Entrer dans « Sciences en direct »' }).click();
    await teacher.getByRole('button', { name: 'Ouvrir la classe' }).click();
    await teacher.getByTestId('classroom-connection').getByText('Audio et vidéo : connectés', { exact: false }).waitFor(MEDIA_TIMEOUT);

    const pupils = [await people.person(origin, 'pupila1'), await people.person(origin, 'pupila2')];
    for (const pupil of pupils) await pupil.addInitScript(PEER_TRACKER);
    for (const pupil of pupils) {
      await pupil.goto(`${origin}/classe-virtuelle?salle=${encodeURIComponent(roomId)}`);
      await pupil.getByTestId('classroom-connection').getByText('Audio et vidéo : connectés', { exact: false }).waitFor(MEDIA_TIMEOUT);
    }
    for (const pupil of pupils) await expect.poll(() => audioPeak(pupil, 'teacherA'), MEDIA_TIMEOUT).toBeGreaterThan(AUDIBLE_PEAK);
    // Before the floor, nothing of the pupil reaches anyone.
    expect(await pupils[1]!.locator('audio[data-participant="pupilA1"]').count()).toBe(0);

    await teacher.getByRole('button', { name: 'Donner la parole à pupilA1 Fixture' }).click();
    await pupils[0]!.getByRole('heading', { name: 'Vous avez la parole : votre micro est ouvert.' }).waitFor(TIMEOUT);
    await expect.poll(() => audioPeak(pupils[1]!, 'pupilA1'), MEDIA_TIMEOUT).toBeGreaterThan(AUDIBLE_PEAK);
    await expect.poll(() => audioPeak(teacher, 'pupilA1'), MEDIA_TIMEOUT).toBeGreaterThan(AUDIBLE_PEAK);
    await expectAccessible(pupils[1]!, 'classe virtuelle : élève recevant le son');

    // The teacher shares the screen (chromium's fake capture: --use-fake-device-for-media-stream
    // gives getDisplayMedia a 1280×720 picture, --use-fake-ui-for-media-stream skips the picker):
    // both pupils decode the screen track.
    await teacher.getByRole('button', { name: 'Partager mon écran' }).click();
    await teacher.getByRole('button', { name: 'Arrêter le partage d’écran' }).waitFor(TIMEOUT);
    for (const pupil of pupils) await expect.poll(() => videoWidth(pupil, 'teacherA', 'screen'), MEDIA_TIMEOUT).toBeGreaterThan(0);
  });

  /**
   * Through the embedded engine a pupil decodes the teacher's camera. It did not until the engine
   * routed a browser's picture-loss indications by their media SSRC (werift routes them by the
   * sender's SSRC first, which for a pupil who also publishes is one of the engine's receivers):
   * the pupil's requests for a keyframe never reached the teacher (src/media/embedded/sfu-room.ts).
   */
  it('pupils receive the teacher’s camera: frames decoded (videoWidth > 0); sent with temporal layers, and a pupil at teacher-low still decodes it, thinned', async () => {
    const origin = suite.server.origin;
    const people = await suite.openPeople({ args: FAKE_MEDIA_FLAGS });
    const teacher = await people.person(origin, 'teachera');
    await teacher.addInitScript(PEER_TRACKER);
    const roomId = await createRoom(teacher, origin, 'Vidéo en direct');
    await teacher.getByRole('link', { name: 'Entrer dans « Vidéo en direct »' }).click();
    await teacher.getByRole('button', { name: 'Ouvrir la classe' }).click();
    const pupil = await people.person(origin, 'pupila1');
    await pupil.addInitScript(PEER_TRACKER);
    await pupil.goto(`${origin}/classe-virtuelle?salle=${encodeURIComponent(roomId)}`);
    await pupil.getByTestId('classroom-connection').getByText('Audio et vidéo : connectés', { exact: false }).waitFor(MEDIA_TIMEOUT);
    await expect.poll(() => videoWidth(pupil, 'teacherA', 'camera'), MEDIA_TIMEOUT).toBeGreaterThan(0);
    expect(await videoFrames(pupil, 'inbound')).toBeGreaterThan(0);

    // The web client asked the teacher's camera encoder for VP8 temporal layers (media-client.ts).
    expect(await sentScalabilityModes(teacher)).toEqual(['L1T3']);
    // The pupil is put at `teacher-low` (as the degradation policy would for a short link; here
    // straight through the engine, which room logic does not override while nothing else changes
    // for this pupil): only the base temporal layer is forwarded, a quarter of the frames, and the
    // pupil still decodes them. Without the layers every frame goes (ratio 1: checked).
    await engine.update(roomId, 'pupilA1', { role: 'pupil', send: { audio: false, camera: false, screen: false }, camerasOf: [], level: 'teacher-low' });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const [sent0, decoded0] = [await videoFrames(teacher, 'outbound'), await videoFrames(pupil, 'inbound')];
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const [sent1, decoded1] = [await videoFrames(teacher, 'outbound'), await videoFrames(pupil, 'inbound')];
    expect(decoded1 - decoded0).toBeGreaterThan(0);
    // L1T3's base layer is one frame in four; with every frame forwarded the ratio would be about 1.
    expect((decoded1 - decoded0) / (sent1 - sent0)).toBeLessThan(0.6);
    expect(await videoWidth(pupil, 'teacherA', 'camera')).toBeGreaterThan(0);
  });
});
