/**
 * The messagerie and the carnet de liaison in a real chromium against a real Préau (fixture
 * school): a parent writes to a teacher chosen from the directory, the teacher reads it unread and
 * replies, the parent sees the reply; a teacher sends a note to a class's parents, a parent signs it
 * from Aujourd'hui, the teacher sees who signed and reminds the others. axe-core on every screen, a
 * phone-sized screen for the messagerie. Sequential in one file: chromium is heavy on 2 cores.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chromiumAvailable, expectAccessible, horizontalOverflow, signInThroughPage } from '../support/browser.js';
import { servedBrowserSuite } from '../support/browser-suite.js';

const enabled = chromiumAvailable();

describe.skipIf(!enabled)('messagerie and carnet de liaison in chromium', () => {
  const suite = servedBrowserSuite();
  beforeAll(async () => {
    const server = suite.server;
    // A second family in 6e A (pupil A2's parent): a note to the class reaches two families.
    const now = server.clock.nowMs();
    const db = server.current().storage.db;
    const hash = (await db.selectFrom('people').select('password_hash').where('id', '=', 'parentA1').executeTakeFirstOrThrow()).password_hash;
    await db.insertInto('people').values({
      id: 'parentA2', aaf_jointure: 'J-parentA2', profile: 'parent', staff_function: null, login: 'parenta2', first_name: 'parentA2', last_name: 'Fixture', title: null,
      password_hash: hash, status: 'active', school_id: null, mef_code: null, departed_at: null, created_at: now, updated_at: now,
    }).execute();
    await db.insertInto('guardianships').values({ parent_id: 'parentA2', child_id: 'pupilA2', legal_guardian: 1, relation: 'PERE' }).execute();
  });
  const open = async (options: Parameters<typeof suite.open>[0] = {}) => (await suite.open(options)).page;
  const signIn = (page: Page, login: string) => signInThroughPage(page, suite.server.origin, login);

  it('a parent writes to a teacher chosen from the directory; the teacher sees it unread, opens it and replies; the parent sees the reply', async () => {
    // The parent, on a phone.
    let page = await open({ viewport: { width: 360, height: 740 } });
    await signIn(page, 'parenta1');
    // Aujourd'hui says what is new: teacher A's message to 6e A's parents (fixture) is unread.
    await page.getByTestId('today-unread').getByRole('link', { name: '1 nouveau message' }).click();
    await expect.poll(() => page.url()).toBe(`${suite.server.origin}/messagerie`);
    await page.getByTestId('mail-list').waitFor();
    await expectAccessible(page, 'messagerie (parent, reçus)');
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);

    await page.getByRole('link', { name: 'Écrire un message' }).click();
    // On a phone the form replaces the list.
    expect(await page.getByTestId('mail-list').isVisible()).toBe(false);
    // The directory combobox, with the keyboard alone.
    const to = page.getByRole('combobox', { name: 'À', exact: true });
    await to.focus();
    await to.pressSequentially('teacherA', { delay: 20 });
    const option = page.getByRole('option', { name: /teacherA Fixture \(enseignant\)/ });
    await option.waitFor();
    expect(await to.getAttribute('aria-expanded')).toBe('true');
    await to.press('ArrowDown');
    expect(await to.getAttribute('aria-activedescendant')).toBe(await option.getAttribute('id'));
    await to.press('Enter');
    await page.getByRole('button', { name: 'Retirer teacherA Fixture', exact: true }).waitFor();
    // Nobody a parent may not write to is offered: not another class's teacher.
    await to.pressSequentially('teacherB', { delay: 20 });
    await page.getByText('Aucune personne ni classe à qui vous pouvez écrire ne correspond.').waitFor({ state: 'attached' });
    expect(await page.getByRole('option').count()).toBe(0);
    await to.fill('');
    // Limits are said before sending.
    await page.getByLabel('Objet').fill('Absence de jeudi');
    expect(await page.getByText('184 caractères restants').count()).toBe(1);
    await page.getByLabel('Message', { exact: true }).fill('Bonjour,\nmon fils sera absent jeudi.\n\nCordialement.');
    await expectAccessible(page, 'messagerie (nouveau message)');
    // A file: the message becomes a draft that receives it (with progress), then the draft is sent.
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    await page.getByLabel('Joindre un fichier').setInputFiles({ name: 'certificat.pdf', mimeType: 'application/pdf', buffer: pdf });
    await expect.poll(() => page.getByTestId('live-region').textContent()).toBe('« certificat.pdf » est joint au message.');
    expect(await page.getByRole('heading', { name: 'Brouillon' }).count()).toBe(1);
    await page.getByRole('button', { name: 'Envoyer', exact: true }).click();
    await expect.poll(() => page.getByTestId('live-region').textContent()).toBe('Message envoyé.');
    // The sent folder shows it.
    await expect.poll(() => page.url()).toBe(`${suite.server.origin}/messagerie?dossier=envoyes`);
    await expect.poll(() => page.getByTestId('message-line').first().textContent()).toContain('Absence de jeudi');

    // The teacher: the message is unread in Reçus, with the count.
    page = await open();
    await signIn(page, 'teachera');
    await page.getByTestId('today-unread').getByRole('link').click();
    await page.getByTestId('mail-list').waitFor();
    const line = page.getByTestId('message-line').filter({ hasText: 'Absence de jeudi' });
    await line.waitFor();
    expect(await line.getAttribute('data-read')).toBe('false');
    expect(await line.textContent()).toContain('Non lu');
    expect(await page.getByRole('link', { name: /Reçus \(1 non lus\)/ }).count()).toBe(1);
    await line.getByRole('link').click();
    const message = page.getByTestId('message');
    await message.waitFor();
    expect(await message.textContent()).toContain('mon fils sera absent jeudi.');
    expect(await message.textContent()).toContain('parentA1 Fixture');
    expect(await message.getByRole('link', { name: /certificat\.pdf/ }).getAttribute('href')).toMatch(/^\/api\/v1\/messages\/[\w-]+\/attachments\/[\w-]+$/);
    // Opening it marked it read (through the outbox), on the server too.
    await expect.poll(async () => (await suite.server.current().storage.db.selectFrom('message_recipients').select('read_at').where('person_id', '=', 'teacherA').execute()).some((d) => d.read_at !== null)).toBe(true);
    await expect.poll(() => line.getAttribute('data-read')).toBe('true');
    await expectAccessible(page, 'messagerie (conversation, enseignant)');
    // Marked unread again (back to the list), then read again by opening it.
    await page.getByRole('button', { name: 'Marquer comme non lu' }).click();
    await expect.poll(() => page.getByTestId('live-region').textContent()).toBe('Message marqué non lu.');
    await expect.poll(() => page.url()).toBe(`${suite.server.origin}/messagerie`);
    await expect.poll(() => page.getByRole('link', { name: /Reçus \(1 non lus\)/ }).count()).toBe(1);
    await expect.poll(() => line.getAttribute('data-read')).toBe('false');
    await page.getByTestId('message-line').filter({ hasText: 'Absence de jeudi' }).getByRole('link').click();
    await expect.poll(() => page.getByRole('link', { name: /Reçus \(1 non lus\)/ }).count()).toBe(0);
    // A teacher may write to all the parents of a class they teach: the directory offers it.
    await page.getByRole('link', { name: 'Écrire un message' }).click();
    const teacherTo = page.getByRole('combobox', { name: 'À', exact: true });
    await teacherTo.pressSequentially('6e A', { delay: 20 });
    await page.getByRole('option', { name: 'Parents de 6e A', exact: true }).waitFor();
    await page.getByTestId('message-line').filter({ hasText: 'Absence de jeudi' }).getByRole('link').click();
    await page.getByTestId('message').waitFor();
    await page.getByRole('button', { name: 'Répondre' }).click();
    const reply = page.getByTestId('compose');
    expect(await reply.getByLabel('Objet').inputValue()).toBe('RE : Absence de jeudi');
    await reply.getByLabel('Message', { exact: true }).fill('Bien noté, merci.');
    await reply.getByRole('button', { name: 'Envoyer', exact: true }).click();
    await expect.poll(() => page.getByTestId('live-region').textContent()).toBe('Message envoyé.');

    // The parent sees the reply, in the same conversation.
    page = await open();
    await signIn(page, 'parenta1');
    await page.goto(`${suite.server.origin}/messagerie`);
    const answer = page.getByTestId('message-line').filter({ hasText: 'RE : Absence de jeudi' });
    await answer.waitFor();
    expect(await answer.getAttribute('data-read')).toBe('false');
    await answer.getByRole('link').click();
    await page.getByTestId('message').waitFor();
    expect(await page.getByTestId('message').textContent()).toContain('Bien noté, merci.');
    expect(await page.getByRole('heading', { name: 'La conversation (2 messages)' }).count()).toBe(1);
    // A notification's link opens a conversation directly.
    const id = new URL(page.url()).searchParams.get('conversation');
    await page.goto(`${suite.server.origin}/messagerie?conversation=${id}`);
    await page.getByTestId('message').waitFor();
    expect(await page.getByRole('heading', { level: 2, name: 'RE : Absence de jeudi' }).count()).toBe(1);
    // Search in one's own mail.
    await page.goto(`${suite.server.origin}/messagerie`);
    await page.getByLabel('Rechercher dans mes messages').fill('noté');
    await page.getByRole('button', { name: 'Rechercher' }).click();
    await expect.poll(() => page.getByTestId('message-line').count()).toBe(1);
    expect(await page.getByRole('heading', { name: /Résultats pour « noté »/ }).count()).toBe(1);
  });

  it('a teacher sends a note to a class’s parents; a parent signs it from Aujourd’hui; the teacher sees 1 signed and reminds the others, then may not remind again today', async () => {
    let page = await open();
    await signIn(page, 'teachera');
    await page.getByRole('navigation', { name: 'Navigation principale' }).getByRole('link', { name: 'Carnet de liaison' }).click();
    await page.getByText('Écrire un mot aux familles').click();
    const audience = page.getByLabel('Destinataires');
    await expect.poll(() => audience.locator('option').count()).toBeGreaterThan(0);
    await audience.selectOption({ label: 'Parents de 6e A' });
    await page.getByLabel('Titre').fill('Sortie au musée jeudi');
    await page.getByLabel('Texte du mot').fill('Départ à 9 h devant le collège.');
    await expectAccessible(page, 'carnet de liaison (enseignant)');
    await page.getByRole('button', { name: 'Envoyer le mot' }).click();
    await expect.poll(() => page.getByTestId('live-region').textContent()).toBe('Mot envoyé à 2 familles.');
    const sent = page.getByTestId('sent-note').filter({ hasText: 'Sortie au musée jeudi' });
    await sent.waitFor();
    expect(await sent.getByTestId('signed-count').textContent()).toContain('0 signés sur 2');

    // Parent A1 signs it from Aujourd'hui's card.
    page = await open({ viewport: { width: 360, height: 740 } });
    await signIn(page, 'parenta1');
    await page.getByTestId('today-to-sign').getByRole('link', { name: '1 mot à signer' }).click();
    await expect.poll(() => page.url()).toBe(`${suite.server.origin}/carnet-de-liaison`);
    await page.getByTestId('to-sign').getByRole('link', { name: 'Sortie au musée jeudi' }).click();
    await page.getByTestId('sign-box').waitFor();
    expect(await page.getByTestId('note').textContent()).toContain('Départ à 9 h devant le collège.');
    await expectAccessible(page, 'carnet de liaison (parent, un mot)');
    await page.getByRole('button', { name: 'Lu et signé' }).click();
    await page.getByTestId('signed-state').waitFor();
    expect(await page.getByTestId('signed-state').textContent()).toMatch(/^Signé le 7 septembre 2026 à 7 h 45$/);
    // Sent through the outbox, with an Idempotency-Key.
    expect(suite.server.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/sign')).every((r) => r.idempotencyKey)).toBe(true);
    await page.goto(`${suite.server.origin}/aujourdhui`);
    await page.getByText('Aucun mot à signer.').waitFor();

    // The teacher: 1 signed of 2, who has not, and Relancer.
    page = await open();
    await signIn(page, 'teachera');
    await page.goto(`${suite.server.origin}/carnet-de-liaison`);
    await page.getByTestId('sent-note').filter({ hasText: 'Sortie au musée jeudi' }).getByRole('link').click();
    const follow = page.getByTestId('follow');
    await follow.waitFor();
    await page.getByTestId('signatures').waitFor();
    expect(await follow.getByTestId('signed-count').textContent()).toContain('1 signés sur 2');
    expect(await page.locator('[data-testid="signatures"] tbody tr[data-signed="true"]').textContent()).toContain('parentA1 Fixture');
    expect(await page.locator('[data-testid="signatures"] tbody tr[data-signed="false"]').textContent()).toContain('parentA2 Fixture');
    await expectAccessible(page, 'carnet de liaison (qui a signé)');
    const remindButton = page.getByRole('button', { name: 'Relancer' });
    expect(await remindButton.isEnabled()).toBe(true);
    await remindButton.click();
    await expect.poll(() => page.getByTestId('live-region').textContent()).toBe('1 familles relancées.');
    // Not again within a day: disabled, with the reason in words.
    expect(await remindButton.isDisabled()).toBe(true);
    expect(await page.getByTestId('remind-reason').textContent()).toMatch(/^Une relance vient d’être envoyée : prochaine relance possible le /);
    const reminded = await suite.server.current().storage.db.selectFrom('liaison_targets').select(['parent_id', 'reminded_at']).where('reminded_at', 'is not', null).execute();
    expect(reminded.map((r) => r.parent_id)).toEqual(['parentA2']);
  });
});
