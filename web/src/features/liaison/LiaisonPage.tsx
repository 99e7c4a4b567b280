import { useEffect, useRef, useState } from 'preact/hooks';
import { ErrorLine } from '../../app/FormParts.js';
import type { LiaisonNote, LiaisonSignatures } from '../../api/types.js';
import { EmptyState, PageTitle } from '../../app/EmptyState.js';
import { errorMessage } from '../../app/errors.js';
import { Loading } from '../../app/Loading.js';
import { MorePages } from '../../app/MorePages.js';
import { currentSearch, navigate, ROUTES } from '../../app/router.js';
import { announce, lang, me, outboxEntries, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { formatDateTime } from '../../i18n/index.js';
import { queueWrite } from '../../offline/outbox-runner.js';
import { Counter } from '../../app/Counter.js';
import { DataTable } from '../../app/DataTable.js';
import { budget, textToHtml } from '../../app/text.js';
import { createNote, directory, getNote, listNotes, remind, signatures, signPath, withdraw } from './liaison.api.js';
import {
  afterReminder, liaisonAudiences, MAX_BODY_HTML_CHARS, MAX_TITLE_CHARS, parentNotes, reminderAvailability, signedShare, SIGNATURES_PAGE_SIZE, splitToSign, type LiaisonAudience, type ParentNote,
} from './liaison.state.js';

const noteHref = (id: string) => `${ROUTES.liaison}?note=${encodeURIComponent(id)}`;
const nextNotes = (cursor: string) => listNotes(cursor).then(({ data }) => ({ items: data.notes, nextCursor: data.nextCursor }));

/** Le carnet de liaison: parents sign the notes about their children; teachers and staff write and follow them. */
export default function LiaisonPage() {
  const search = useValue(currentSearch);
  const person = useValue(me);
  const noteId = new URLSearchParams(search).get('note');
  if (!person) return null;
  if (person.profile === 'eleve') return <PupilCarnet />;
  if (noteId) return <NotePage key={noteId} id={noteId} parent={person.profile === 'parent'} />;
  return person.profile === 'parent' ? <ParentCarnet /> : <AuthorCarnet />;
}

/** Pupils have no part in it (the carnet is between the school and their parents): the page says so. */
function PupilCarnet() {
  const t = useT();
  return (
    <section class="card" aria-labelledby="page-title">
      <PageTitle>{t('nav.liaison')}</PageTitle>
      <EmptyState>{t('liaison.pupil')}</EmptyState>
    </section>
  );
}

function ParentCarnet() {
  const t = useT();
  return (
    <section aria-labelledby="page-title">
      <PageTitle>{t('nav.liaison')}</PageTitle>
      <Loading load={() => listNotes()}>
        {(data) => (
          <MorePages first={data.notes} nextCursor={data.nextCursor} loadPage={nextNotes} label={t('liaison.more')}>
            {(all) => {
              const { toSign, signed } = splitToSign(parentNotes(all));
              return (
                <div class="grid">
                  <section class="card" aria-labelledby="to-sign-title" data-testid="to-sign">
                    <h2 id="to-sign-title">{t('liaison.toSign', { count: toSign.length })}</h2>
                    {toSign.length === 0 ? <EmptyState>{t('liaison.noneToSign')}</EmptyState> : <NoteLines notes={toSign} />}
                  </section>
                  <section class="card" aria-labelledby="signed-title">
                    <h2 id="signed-title">{t('liaison.signedNotes')}</h2>
                    {signed.length === 0 ? <EmptyState>{t('liaison.noneSigned')}</EmptyState> : <NoteLines notes={signed} />}
                  </section>
                </div>
              );
            }}
          </MorePages>
        )}
      </Loading>
    </section>
  );
}

function NoteLines({ notes }: { notes: ParentNote[] }) {
  const t = useT();
  const current = useValue(lang);
  return (
    <ul class="plain-list">
      {notes.map(({ note, signedAt }) => (
        <li key={note.id} data-testid="note-line">
          <a href={noteHref(note.id)}>{note.title}</a>
          <p class="slot-meta">
            {note.audience.name} · {formatDateTime(note.createdAt, current)}
            {signedAt ? ` · ${t('liaison.signedOn', { when: formatDateTime(signedAt, current) })}` : ''}
          </p>
        </li>
      ))}
    </ul>
  );
}

/** Teachers and staff: write a note, and the notes they wrote with how many signed. */
function AuthorCarnet() {
  const t = useT();
  const [version, setVersion] = useState(0);
  return (
    <section aria-labelledby="page-title">
      <PageTitle>{t('nav.liaison')}</PageTitle>
      <NewNote onCreated={() => setVersion((v) => v + 1)} />
      <section class="card" aria-labelledby="sent-notes-title" data-testid="sent-notes">
        <h2 id="sent-notes-title">{t('liaison.sentNotes')}</h2>
        <Loading key={version} load={() => listNotes()}>
          {(data) =>
            data.notes.length === 0 ? (
              <EmptyState>{t('liaison.noneSent')}</EmptyState>
            ) : (
              <MorePages first={data.notes} nextCursor={data.nextCursor} loadPage={nextNotes} label={t('liaison.more')}>
                {(all) => (
                  <ul class="plain-list">
                    {all.map((n) => (
                      <li key={n.id} data-testid="sent-note">
                        <a href={noteHref(n.id)}>{n.title}</a>
                        <p class="slot-meta">
                          {n.audience.name} · <SignedCount note={n} />
                        </p>
                      </li>
                    ))}
                  </ul>
                )}
              </MorePages>
            )
          }
        </Loading>
      </section>
    </section>
  );
}

function SignedCount({ note }: { note: Pick<LiaisonNote, 'signed' | 'total'> }) {
  const t = useT();
  const signed = note.signed ?? 0;
  const total = note.total ?? 0;
  return (
    <span data-testid="signed-count">
      {t('liaison.signedCount', { signed, total })}{' '}
      <progress max={100} value={signedShare(signed, total)} aria-label={t('liaison.signedCount', { signed, total })}>
        {signedShare(signed, total)} %
      </progress>
    </span>
  );
}

function NewNote({ onCreated }: { onCreated: () => void }) {
  const t = useT();
  const current = useValue(lang);
  const [audiences, setAudiences] = useState<LiaisonAudience[] | undefined>();
  const [title, setTitle] = useState('');
  const [text, setText] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  const key = useRef<string | undefined>(undefined);
  const select = useRef<HTMLSelectElement>(null);
  useEffect(() => {
    directory('').then(({ data }) => setAudiences(liaisonAudiences(data)), (err: unknown) => {
      setAudiences([]);
      setError(errorMessage(err, current));
    });
  }, []);
  const bodyBudget = budget(textToHtml(text).length, MAX_BODY_HTML_CHARS);
  const submit = async (event: Event) => {
    event.preventDefault();
    const audience = audiences?.find((a) => `${a.kind}:${a.id}` === select.current?.value);
    if (!audience || !title.trim()) return setError(t('liaison.missing'));
    if (bodyBudget.over) return setError(t('mail.problem.bodyTooLong', { max: MAX_BODY_HTML_CHARS }));
    setBusy(true);
    setError(undefined);
    try {
      const { data } = await createNote(audience, title.trim(), textToHtml(text), (key.current ??= crypto.randomUUID()));
      key.current = undefined;
      setTitle('');
      setText('');
      const said = t('liaison.created', { count: data.note.total ?? 0 });
      setStatus(said);
      announce(said);
      onCreated();
    } catch (err) {
      setError(errorMessage(err, current));
    } finally {
      setBusy(false);
    }
  };
  const groups = [
    ['liaison.audienceClasses', (audiences ?? []).filter((a) => a.kind !== 'pupil')],
    ['liaison.audiencePupils', (audiences ?? []).filter((a) => a.kind === 'pupil')],
  ] as const;
  return (
    <details class="card">
      <summary>{t('liaison.newTitle')}</summary>
      <form class="new-note" onSubmit={(e) => void submit(e)} noValidate data-testid="new-note">
        <label for="ln-audience">{t('liaison.audience')}</label>
        <select id="ln-audience" ref={select} onChange={() => (key.current = undefined)}>
          {groups.map(([label, list]) =>
            list.length === 0 ? null : (
              <optgroup key={label} label={t(label)}>
                {list.map((a) => (
                  <option key={`${a.kind}:${a.id}`} value={`${a.kind}:${a.id}`}>
                    {t(a.kind === 'pupil' ? 'liaison.parentsOf' : 'mail.who.parents', { name: a.name })}
                  </option>
                ))}
              </optgroup>
            ),
          )}
        </select>
        {audiences === undefined && <p class="hint">{t('app.loading')}</p>}
        <label for="ln-title">{t('liaison.titleLabel')}</label>
        <input id="ln-title" value={title} maxLength={MAX_TITLE_CHARS} aria-describedby="ln-title-count" onInput={(e) => {
          key.current = undefined;
          setTitle((e.currentTarget as HTMLInputElement).value);
        }} />
        <Counter id="ln-title-count" left={MAX_TITLE_CHARS - title.length} />
        <label for="ln-body">{t('liaison.body')}</label>
        <textarea id="ln-body" rows={6} value={text} aria-describedby="ln-body-count" aria-invalid={bodyBudget.over} onInput={(e) => {
          key.current = undefined;
          setText((e.currentTarget as HTMLTextAreaElement).value);
        }} />
        <Counter id="ln-body-count" left={bodyBudget.left} />
        <p role="status">{status}</p>
        <ErrorLine error={error} />
        <button type="submit" disabled={busy}>
          {t('liaison.send')}
        </button>
      </form>
    </details>
  );
}

function NotePage({ id, parent }: { id: string; parent: boolean }) {
  const t = useT();
  const current = useValue(lang);
  return (
    <section aria-labelledby="page-title">
      <p class="back-link">
        <a href={ROUTES.liaison}>{t('liaison.back')}</a>
      </p>
      <Loading load={() => getNote(id)}>
        {({ note }, reload) => (
          <>
            <article class="card" aria-labelledby="page-title" data-testid="note">
              <PageTitle>{note.title}</PageTitle>
              <dl class="facts">
                <dt>{t('liaison.for')}</dt>
                <dd>{note.audience.kind === 'pupil' ? t('liaison.parentsOf', { name: note.audience.name }) : t('mail.who.parents', { name: note.audience.name })}</dd>
                <dt>{t('liaison.writtenOn')}</dt>
                <dd>{formatDateTime(note.createdAt, current)}</dd>
              </dl>
              {/* Sanitised by the server against an allow-list (liaison.service): content only. */}
              <div class="rich-text" dangerouslySetInnerHTML={{ __html: note.bodyHtml ?? '' }} />
            </article>
            {parent && <SignBox note={note} onSigned={reload} />}
            {!parent && note.total !== undefined && <FollowNote note={note} />}
          </>
        )}
      </Loading>
    </section>
  );
}

/** "Lu et signé", through the outbox: a signature made on a dead link is sent once, later. */
function SignBox({ note, onSigned }: { note: LiaisonNote; onSigned: () => void }) {
  const t = useT();
  const current = useValue(lang);
  const entries = useValue(outboxEntries);
  const mine = note.mySignatures ?? [];
  const signedAt = mine.length > 0 && mine.every((s) => s.signedAt) ? mine.map((s) => s.signedAt!).sort().at(-1)! : null;
  const waiting = entries.some((e) => e.kind === 'liaison-sign' && e.path === signPath(note.id) && e.state !== 'failed');
  const sign = async () => {
    await queueWrite('liaison-sign', 'POST', signPath(note.id), undefined, note.title);
    const stillWaiting = outboxEntries.get().some((e) => e.kind === 'liaison-sign' && e.path === signPath(note.id) && e.state === 'pending');
    announce(t(stillWaiting ? 'liaison.signQueued' : 'liaison.signDone'));
    if (!stillWaiting) onSigned();
  };
  return (
    <section class="card" aria-labelledby="sign-title" data-testid="sign-box">
      <h2 id="sign-title">{t('liaison.signature')}</h2>
      {signedAt ? (
        <p class="success" data-testid="signed-state">
          {t('liaison.signedOn', { when: formatDateTime(signedAt, current) })}
        </p>
      ) : waiting ? (
        <p class="notice" role="status">
          {t('liaison.signQueued')}
        </p>
      ) : (
        <>
          <p>{t('liaison.signExplain')}</p>
          <button type="button" onClick={() => void sign()}>
            {t('liaison.sign')}
          </button>
        </>
      )}
    </section>
  );
}

/** The author and the school's staff: who signed (paginated), Relancer within the server's bounds, withdraw. */
function FollowNote({ note: initial }: { note: LiaisonNote }) {
  const t = useT();
  const current = useValue(lang);
  const [note, setNote] = useState(initial);
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<LiaisonSignatures | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [status, setStatus] = useState('');
  useEffect(() => {
    signatures(note.id, offset).then(({ data }) => {
      setPage(data);
      setNote((n) => ({ ...n, signed: data.signed, total: data.total }));
    }, (err: unknown) => setError(errorMessage(err, current)));
  }, [offset]);
  const availability = reminderAvailability(note, Date.now());
  const reason =
    availability.allowed ? t('liaison.remindLeft', { count: availability.left })
    : availability.reason === 'allSigned' ? t('liaison.remindAllSigned')
    : availability.reason === 'exhausted' ? t('liaison.remindExhausted')
    : t('liaison.remindTooSoon', { when: formatDateTime(new Date(availability.atMs).toISOString(), current) });
  const doRemind = async () => {
    setError(undefined);
    try {
      const { data } = await remind(note.id);
      setNote((n) => afterReminder(n, Date.now()));
      const said = t('liaison.reminded', { count: data.reminded });
      setStatus(said);
      announce(said);
    } catch (err) {
      setError(errorMessage(err, current));
    }
  };
  const doWithdraw = async () => {
    if (!confirm(t('liaison.withdrawConfirm'))) return;
    try {
      await withdraw(note.id);
      announce(t('liaison.withdrawn'));
      navigate(ROUTES.liaison);
    } catch (err) {
      setError(errorMessage(err, current));
    }
  };
  return (
    <section class="card" aria-labelledby="follow-title" data-testid="follow">
      <h2 id="follow-title">{t('liaison.whoSigned')}</h2>
      <p>
        <SignedCount note={note} />
      </p>
      <div class="actions">
        <button type="button" disabled={!availability.allowed} aria-describedby="remind-reason" onClick={() => void doRemind()}>
          {t('liaison.remind')}
        </button>
        {note.canWithdraw === true && (
          <button type="button" class="button-secondary" onClick={() => void doWithdraw()}>
            {t('liaison.withdraw')}
          </button>
        )}
      </div>
      <p id="remind-reason" class="hint" data-testid="remind-reason">
        {reason}
      </p>
      <p role="status">{status}</p>
      <ErrorLine error={error} />
      {!page ? (
        <p class="notice">{t('app.loading')}</p>
      ) : (
        <>
          <DataTable
            testId="signatures"
            caption={t('liaison.signaturesCaption', { from: offset + 1, to: offset + page.rows.length, total: page.total })}
            columns={[t('liaison.col.pupil'), t('liaison.col.parent'), t('liaison.col.state')]}
          >
            {page.rows.map((r) => (
              <tr key={`${r.parent.id}-${r.pupil.id}`} data-signed={r.signedAt ? 'true' : 'false'}>
                <th scope="row">{r.pupil.name}</th>
                <td>{r.parent.name}</td>
                <td>
                  {r.signedAt ? t('liaison.signedOn', { when: formatDateTime(r.signedAt, current) }) : t('liaison.notSigned')}
                  {r.remindedAt && ` · ${t('liaison.remindedOn', { when: formatDateTime(r.remindedAt, current) })}`}
                </td>
              </tr>
            ))}
          </DataTable>
          <div class="actions">
            {offset > 0 && (
              <button type="button" class="button-secondary" onClick={() => setOffset(Math.max(0, offset - SIGNATURES_PAGE_SIZE))}>
                {t('liaison.previous')}
              </button>
            )}
            {page.nextOffset !== null && (
              <button type="button" class="button-secondary" onClick={() => setOffset(page.nextOffset!)}>
                {t('liaison.next')}
              </button>
            )}
          </div>
        </>
      )}
    </section>
  );
}
