import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api } from '../../api/client.js';
import type { HomeworkEntry, PupilHandins, Receipt, Slot } from '../../api/types.js';
import { EmptyState, PageTitle } from '../../app/EmptyState.js';
import { DataTable } from '../../app/DataTable.js';
import { Loading } from '../../app/Loading.js';
import { textToHtml } from '../../app/text.js';
import { errorMessage } from '../../app/errors.js';
import { currentSearch, ROUTES } from '../../app/router.js';
import { announce, lang, me, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { formatDateTime, formatSchoolDay, formatTime } from '../../i18n/index.js';
import { queueWrite } from '../../offline/outbox-runner.js';
import { AttachmentLink } from './AttachmentLink.js';
import { downloadReceipt, getEntry, handinsOf, handinsOverview, listEntries, myChildren, upload } from './homework.api.js';
import { contentSignature, formatBytes, groupByDay, groupBySubject, HandinAttempt } from './homework.state.js';

/** A weak link may drop an upload: it is tried again this many times (same key) before asking. */
const MAX_AUTO_RETRIES = 3;

const entryHref = (id: string) => `${ROUTES.homework}?travail=${encodeURIComponent(id)}`;

/** The cahier de textes: the list (by day or subject), an entry with its hand-ins, the teacher's form. */
export default function HomeworkPage() {
  const search = useValue(currentSearch);
  const person = useValue(me);
  const params = new URLSearchParams(search);
  const entryId = params.get('travail');
  if (!person) return null;
  if (entryId) return <EntryPage key={entryId} entryId={entryId} />;
  const classId = params.get('classe');
  const groupId = params.get('groupe');
  if (person.profile === 'enseignant') return <TeacherCahier key={search} audience={classId ? `classId=${encodeURIComponent(classId)}&` : groupId ? `groupId=${encodeURIComponent(groupId)}&` : ''} />;
  return <ReaderCahier />;
}

/** Pupils and parents: the coming weeks' entries, by day or by subject. */
function ReaderCahier() {
  const t = useT();
  const [by, setBy] = useState<'day' | 'subject'>('day');
  // The server's school day decides the window (today and the next two weeks).
  const load = () => listEntries('limit=100');
  return (
    <section aria-labelledby="page-title">
      <PageTitle>{t('nav.homework')}</PageTitle>
      <fieldset class="choice">
        <legend>{t('homework.groupBy')}</legend>
        {(['day', 'subject'] as const).map((v) => (
          <div key={v}>
            <input type="radio" id={`by-${v}`} name="by" value={v} checked={by === v} onChange={() => setBy(v)} />
            <label for={`by-${v}`}>{t(v === 'day' ? 'homework.byDay' : 'homework.bySubject')}</label>
          </div>
        ))}
      </fieldset>
      <Loading load={load}>{(data) => <EntryGroups entries={data.entries} by={by} />}</Loading>
    </section>
  );
}

function EntryGroups({ entries, by }: { entries: HomeworkEntry[]; by: 'day' | 'subject' }) {
  const t = useT();
  const current = useValue(lang);
  if (entries.length === 0) return <EmptyState>{t('homework.empty')}</EmptyState>;
  const groups = by === 'day' ? groupByDay(entries) : groupBySubject(entries, t('homework.noSubject'));
  return (
    <div class="grid">
      {groups.map((g, i) => (
        <section key={g.key} class="card" aria-labelledby={`group-${i}`}>
          <h2 id={`group-${i}`}>{by === 'day' ? formatSchoolDay(g.key, current) : g.key}</h2>
          <ul class="work-due">
            {g.entries.map((e) => (
              <EntryLine key={e.id} entry={e} showDate={by === 'subject'} />
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

function EntryLine({ entry: e, showDate }: { entry: HomeworkEntry; showDate: boolean }) {
  const t = useT();
  const current = useValue(lang);
  return (
    <li class="work-item" data-testid="entry-line">
      <p class="work-when">
        {t(e.kind === 'travail' ? 'homework.kind.travail' : 'homework.kind.seance')}
        {showDate && ` · ${formatSchoolDay(e.date, current)}`}
        {e.state !== 'published' && ` · ${t(e.state === 'draft' ? 'homework.state.draft' : 'homework.state.scheduled')}`}
      </p>
      <p class="work-title">
        <a href={entryHref(e.id)}>{[e.subject?.label, e.title].filter(Boolean).join(' — ')}</a>
        {e.onlineHandin && <strong class="badge badge-online">{t('work.onlineHandin')}</strong>}
        {e.done && <strong class="badge badge-current">{t('homework.doneBadge')}</strong>}
      </p>
      {e.audience.name && <p class="slot-meta">{e.audience.name}</p>}
    </li>
  );
}

/** One entry: its text, attachments, "fait", and the hand-ins as each profile sees them. */
function EntryPage({ entryId }: { entryId: string }) {
  const t = useT();
  const person = useValue(me)!;
  const [, setVersion] = useState(0);
  return (
    <section aria-labelledby="page-title">
      <p>
        <a href={ROUTES.homework}>{t('homework.back')}</a>
      </p>
      <Loading load={() => getEntry(entryId)}>
        {({ entry }) => (
          <>
            <EntryDetail entry={entry} />
            {person.profile === 'eleve' && entry.kind === 'travail' && <DoneBox entry={entry} onChange={() => setVersion((v) => v + 1)} />}
            {person.profile === 'eleve' && entry.onlineHandin && <PupilHandin entry={entry} pupilId={person.id} />}
            {person.profile === 'parent' && entry.onlineHandin && <ParentHandins entry={entry} />}
            {person.profile === 'enseignant' && entry.onlineHandin && <TeacherHandins entry={entry} />}
          </>
        )}
      </Loading>
    </section>
  );
}

function EntryDetail({ entry: e }: { entry: HomeworkEntry }) {
  const t = useT();
  const current = useValue(lang);
  return (
    <article class="card" aria-labelledby="page-title" data-testid="entry-detail">
      <PageTitle>{[e.subject?.label, e.title].filter(Boolean).join(' — ')}</PageTitle>
      <dl class="facts">
        <dt>{t('homework.for')}</dt>
        <dd>{e.audience.name}</dd>
        {e.teacher && (
          <>
            <dt>{t('homework.teacher')}</dt>
            <dd>{e.teacher}</dd>
          </>
        )}
        <dt>{t(e.kind === 'travail' ? 'homework.dueOn' : 'homework.lessonOn')}</dt>
        <dd>
          {formatSchoolDay(e.date, current)}
          {e.dueAt && `, ${t('work.dueAt', { time: formatTime(e.dueAt, current) })}`}
        </dd>
        {e.estimatedMinutes !== null && (
          <>
            <dt>{t('homework.estimated')}</dt>
            <dd>{t('work.estimated', { minutes: e.estimatedMinutes })}</dd>
          </>
        )}
        {e.onlineHandin && (
          <>
            <dt>{t('homework.handinMode')}</dt>
            <dd>{t('work.onlineHandin')}</dd>
          </>
        )}
        {e.state !== 'published' && (
          <>
            <dt>{t('homework.stateLabel')}</dt>
            <dd>{e.state === 'draft' ? t('homework.state.draft') : t('homework.state.scheduledAt', { when: formatDateTime(e.publishAt!, current) })}</dd>
          </>
        )}
      </dl>
      {/* Sanitised by the server against an allow-list (homework.service): content only, never markup of ours. */}
      <div class="rich-text" dangerouslySetInnerHTML={{ __html: e.bodyHtml }} />
      {e.links.length > 0 && (
        <ul>
          {e.links.map((l) => (
            <li key={l.url}>
              <a href={l.url} rel="noopener noreferrer nofollow" target="_blank">
                {l.label || l.url}
              </a>
            </li>
          ))}
        </ul>
      )}
      {e.attachments.length > 0 && (
        <>
          <h2>{t('homework.attachments')}</h2>
          <ul class="files">
            {e.attachments.map((a) => (
              <AttachmentLink key={a.id} file={a} />
            ))}
          </ul>
        </>
      )}
    </article>
  );
}

/** "Fait": goes through the outbox (Idempotency-Key), so a tick made offline is sent once, later. */
function DoneBox({ entry, onChange }: { entry: HomeworkEntry; onChange: () => void }) {
  const t = useT();
  const [done, setDone] = useState(entry.done === true);
  const toggle = async (value: boolean) => {
    setDone(value);
    entry.done = value;
    await queueWrite('homework-done', 'PUT', `/api/v1/homework/${encodeURIComponent(entry.id)}/done`, { done: value }, entry.title);
    announce(t(value ? 'homework.doneSaved' : 'homework.notDoneSaved'));
    onChange();
  };
  return (
    <div class="card">
      <input type="checkbox" id="done" checked={done} onChange={(e) => void toggle((e.currentTarget as HTMLInputElement).checked)} />{' '}
      <label for="done">{t('homework.done')}</label>
    </div>
  );
}

function ReceiptView({ receipt, title }: { receipt: Receipt; title: string }) {
  const t = useT();
  const current = useValue(lang);
  const [error, setError] = useState<string | undefined>();
  return (
    <section class="card receipt" aria-labelledby={`receipt-${receipt.id}`} data-testid="receipt">
      <h2 id={`receipt-${receipt.id}`}>{title}</h2>
      <dl class="facts">
        <dt>{t('receipt.id')}</dt>
        <dd>
          <code>{receipt.id}</code>
        </dd>
        <dt>{t('receipt.at')}</dt>
        <dd>{formatDateTime(receipt.handedInAt, current)}</dd>
        <dt>{t('receipt.status')}</dt>
        <dd>{receipt.late ? <strong>{t('receipt.late')}</strong> : t('receipt.onTime')}</dd>
        {receipt.text && (
          <>
            <dt>{t('receipt.text')}</dt>
            <dd>
              {t('receipt.characters', { count: receipt.text.characters })} — SHA-256 <code class="hash">{receipt.text.sha256}</code>
            </dd>
          </>
        )}
      </dl>
      {receipt.files.length > 0 && (
        <div class="table-scroll">
          <table>
            <caption>{t('receipt.files')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('receipt.fileName')}</th>
                <th scope="col" class="num">
                  {t('receipt.size')}
                </th>
                <th scope="col">SHA-256</th>
              </tr>
            </thead>
            <tbody>
              {receipt.files.map((f) => (
                <tr key={f.id}>
                  <th scope="row">
                    <a href={f.url} download={f.fileName}>
                      {f.fileName}
                    </a>
                  </th>
                  <td class="num">{formatBytes(f.sizeBytes, current)}</td>
                  <td>
                    <code class="hash">{f.sha256}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <button type="button" class="button-secondary" onClick={() => void downloadReceipt(receipt).then(() => setError(undefined), (err: unknown) => setError(errorMessage(err, current)))}>
        {t('receipt.download')}
      </button>
      {error && <p role="alert">{error}</p>}
    </section>
  );
}

function FeedbackView({ feedback }: { feedback: NonNullable<PupilHandins['feedback']> }) {
  const t = useT();
  const current = useValue(lang);
  return (
    <section class="card" aria-labelledby="feedback-title" data-testid="feedback">
      <h2 id="feedback-title">{t('feedback.title')}</h2>
      {feedback.returnedAt && <p class="slot-meta">{t('feedback.returnedAt', { when: formatDateTime(feedback.returnedAt, current) })}</p>}
      {feedback.comment && <p class="feedback-comment">{feedback.comment}</p>}
      {feedback.file && (
        <ul class="files">
          <AttachmentLink file={feedback.file} />
        </ul>
      )}
    </section>
  );
}

/** "Rendre un travail": text and/or files, progress, the receipt; replaceable until returned. */
function PupilHandin({ entry, pupilId }: { entry: HomeworkEntry; pupilId: string }) {
  const t = useT();
  const current = useValue(lang);
  const [mine, setMine] = useState<PupilHandins | undefined>();
  const [text, setText] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [progress, setProgress] = useState<number | undefined>();
  const [status, setStatus] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const attempt = useRef(new HandinAttempt(() => crypto.randomUUID()));
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    handinsOf(entry.id, pupilId).then((r) => setMine(r.data), () => setMine({ pupil: { id: pupilId, firstName: '', lastName: '' }, current: null, replaced: [], feedback: null }));
  }, [entry.id]);

  const late = entry.dueAt !== null && Date.now() > Date.parse(entry.dueAt);
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!text.trim() && files.length === 0) {
      setError(t('handin.nothing'));
      return;
    }
    setError(undefined);
    const key = attempt.current.keyFor(contentSignature(text, files));
    for (let tries = 0; ; tries++) {
      const form = new FormData();
      if (text.trim()) form.append('text', text);
      for (const f of files) form.append('files', f, f.name);
      setProgress(0);
      setStatus(tries === 0 ? t('handin.sending') : t('handin.retrying', { n: tries + 1 }));
      try {
        const { receipt } = await upload<{ receipt: Receipt }>('POST', `/api/v1/homework/${encodeURIComponent(entry.id)}/handins`, form, { idempotencyKey: key, onProgress: setProgress });
        attempt.current.succeeded();
        setMine((m) => ({ ...(m ?? { pupil: receipt.pupil, replaced: [], feedback: null }), current: receipt }));
        setProgress(undefined);
        setText('');
        setFiles([]);
        if (fileInput.current) fileInput.current.value = '';
        setStatus(t('handin.done'));
        announce(t('handin.done'));
        requestAnimationFrame(() => document.getElementById(`receipt-${receipt.id}`)?.focus());
        return;
      } catch (err) {
        setProgress(undefined);
        const retry = err instanceof ApiError && err.transient && tries < MAX_AUTO_RETRIES;
        if (!retry) {
          setStatus(undefined);
          setError(`${errorMessage(err, current)} ${err instanceof ApiError && err.transient ? t('handin.retryHint') : ''}`.trim());
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(8000, 500 * 2 ** tries * (0.5 + Math.random()))));
      }
    }
  };

  return (
    <>
      {mine?.feedback && <FeedbackView feedback={mine.feedback} />}
      {mine?.current && <ReceiptView receipt={mine.current} title={t('receipt.title')} />}
      {!mine?.feedback && (
        <form class="card" onSubmit={(e) => void submit(e)} aria-labelledby="handin-title" noValidate>
          <h2 id="handin-title">{mine?.current ? t('handin.replaceTitle') : t('handin.title')}</h2>
          {late && <p class="notice">{t('handin.lateWarning')}</p>}
          <label for="handin-text">{t('handin.text')}</label>
          <textarea id="handin-text" rows={5} maxLength={50_000} value={text} onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)} />
          <label for="handin-files">{t('handin.files')}</label>
          <p id="handin-files-hint" class="hint">
            {t('handin.filesHint')}
          </p>
          <input
            ref={fileInput}
            id="handin-files"
            type="file"
            multiple
            accept="image/*,application/pdf"
            capture="environment"
            aria-describedby="handin-files-hint"
            onChange={(e) => setFiles([...((e.currentTarget as HTMLInputElement).files ?? [])])}
          />
          {files.length > 0 && (
            <ul class="files">
              {files.map((f) => (
                <li key={f.name}>
                  {f.name} ({formatBytes(f.size, current)})
                </li>
              ))}
            </ul>
          )}
          {progress !== undefined && (
            <p>
              <label for="handin-progress">{t('handin.progress')}</label>{' '}
              <progress id="handin-progress" max={100} value={Math.round(progress * 100)}>
                {Math.round(progress * 100)} %
              </progress>
            </p>
          )}
          <p role="status">{status}</p>
          {error && (
            <p role="alert" class="alert">
              {error}
            </p>
          )}
          <button type="submit" disabled={progress !== undefined}>
            {mine?.current ? t('handin.replace') : t('handin.submit')}
          </button>
        </form>
      )}
    </>
  );
}

/** A parent: each child's hand-in, receipt and the teacher's return. */
function ParentHandins({ entry }: { entry: HomeworkEntry }) {
  const t = useT();
  const [children, setChildren] = useState<PupilHandins[] | undefined>();
  useEffect(() => {
    void (async () => {
      const kids = (await myChildren()).data.children;
      const found = await Promise.all(kids.map((k) => handinsOf(entry.id, k.id).then((r) => r.data, () => undefined)));
      setChildren(found.filter((x): x is PupilHandins => x !== undefined));
    })().catch(() => setChildren([]));
  }, [entry.id]);
  if (!children) return <p class="notice">{t('app.loading')}</p>;
  return (
    <>
      {children.map((c) => (
        <section key={c.pupil.id} class="card" aria-labelledby={`child-handin-${c.pupil.id}`} data-testid="child-handin">
          <h2 id={`child-handin-${c.pupil.id}`}>{t('handin.ofChild', { name: c.pupil.firstName })}</h2>
          {!c.current && <EmptyState>{t('handin.childNone', { name: c.pupil.firstName })}</EmptyState>}
          {c.current && <ReceiptView receipt={c.current} title={t('receipt.title')} />}
          {c.feedback && <FeedbackView feedback={c.feedback} />}
        </section>
      ))}
    </>
  );
}

/** The teacher: who handed in, late, or not; open a hand-in; return a comment; all as zip. */
function TeacherHandins({ entry }: { entry: HomeworkEntry }) {
  const t = useT();
  const current = useValue(lang);
  const [open, setOpen] = useState<string | undefined>();
  const [version, setVersion] = useState(0);
  return (
    <section class="card" aria-labelledby="handins-title" data-testid="teacher-handins">
      <h2 id="handins-title">{t('handins.title')}</h2>
      <p>
        <a href={`/api/v1/homework/${encodeURIComponent(entry.id)}/handins.zip`} download>
          {t('handins.zip')}
        </a>
      </p>
      <Loading key={version} load={() => handinsOverview(entry.id)}>
        {(o) => (
          <>
            <p>{t('handins.counts', { handedIn: o.counts['handedIn'] ?? 0, late: o.counts['late'] ?? 0, missing: o.counts['missing'] ?? 0 })}</p>
            <DataTable caption={t('handins.caption', { audience: o.entry.audience ?? '' })} columns={[t('handins.pupil'), t('handins.status'), t('handins.action')]}>
              {o.pupils.map((p) => (
                <tr key={p.pupil.id} data-status={p.status}>
                  <th scope="row">
                    {p.pupil.lastName} {p.pupil.firstName}
                  </th>
                  <td>
                    {t(p.status === 'missing' ? 'handins.missing' : p.status === 'late' ? 'handins.late' : 'handins.handedIn')}
                    {p.handin && ` · ${formatDateTime(p.handin.handedInAt, current)}`}
                    {p.returned && ` · ${t('handins.returned')}`}
                  </td>
                  <td>
                    {p.handin && (
                      <button type="button" class="button-secondary" aria-expanded={open === p.pupil.id} onClick={() => setOpen(open === p.pupil.id ? undefined : p.pupil.id)}>
                        {t('handins.open', { name: `${p.pupil.firstName} ${p.pupil.lastName}` })}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </DataTable>
          </>
        )}
      </Loading>
      {open && <OneHandin key={open} entryId={entry.id} pupilId={open} onReturned={() => setVersion((v) => v + 1)} />}
    </section>
  );
}

function OneHandin({ entryId, pupilId, onReturned }: { entryId: string; pupilId: string; onReturned: () => void }) {
  const t = useT();
  const current = useValue(lang);
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [sent, setSent] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  return (
    <Loading load={() => handinsOf(entryId, pupilId)}>
      {(h) => (
        <div data-testid="one-handin">
          {h.current && <ReceiptView receipt={h.current} title={t('handins.of', { name: `${h.pupil.firstName} ${h.pupil.lastName}` })} />}
          {h.current?.text && (
            <section class="card" aria-labelledby="handin-text-title">
              <h3 id="handin-text-title">{t('receipt.text')}</h3>
              <p class="feedback-comment">{h.current.text.content}</p>
            </section>
          )}
          {h.feedback && <FeedbackView feedback={h.feedback} />}
          <form
            class="card"
            aria-labelledby="return-title"
            onSubmit={(e) => {
              e.preventDefault();
              const form = new FormData();
              form.append('comment', comment);
              const file = fileInput.current?.files?.[0];
              if (file) form.append('file', file, file.name);
              upload('PUT', `/api/v1/homework/${encodeURIComponent(entryId)}/handins/${encodeURIComponent(pupilId)}/feedback`, form).then(
                () => {
                  setSent(true);
                  setError(undefined);
                  announce(t('feedback.sent'));
                  onReturned();
                },
                (err: unknown) => setError(errorMessage(err, current)),
              );
            }}
          >
            <h3 id="return-title">{t('feedback.give')}</h3>
            <label for="feedback-comment">{t('feedback.comment')}</label>
            <textarea id="feedback-comment" rows={4} maxLength={10_000} value={comment} onInput={(e) => setComment((e.currentTarget as HTMLTextAreaElement).value)} />
            <label for="feedback-file">{t('feedback.file')}</label>
            <input ref={fileInput} id="feedback-file" type="file" />
            {error && <p role="alert">{error}</p>}
            {sent && <p role="status">{t('feedback.sent')}</p>}
            <button type="submit">{t('feedback.send')}</button>
          </form>
        </div>
      )}
    </Loading>
  );
}

/** The teacher's cahier: their entries, and the form to post work. */
function TeacherCahier({ audience }: { audience: string }) {
  const t = useT();
  const [version, setVersion] = useState(0);
  return (
    <section aria-labelledby="page-title">
      <PageTitle>{t('nav.homework')}</PageTitle>
      <NewWork onCreated={() => setVersion((v) => v + 1)} />
      <Loading key={version} load={() => listEntries(`${audience}limit=100`)}>
        {(data) => (
          <>
            <h2 class="section-title">{audience ? t('homework.ofAudience') : t('homework.mine')}</h2>
            {audience && (
              <p>
                <a href={ROUTES.homework}>{t('homework.allMine')}</a>
              </p>
            )}
            <EntryGroups entries={data.entries} by="day" />
          </>
        )}
      </Loading>
    </section>
  );
}

interface Audience {
  value: string;
  label: string;
  classId: string | null;
  groupId: string | null;
  subjectId: string | null;
}

/** The classes and groups a teacher teaches, from their timetable (lesson by lesson, each once). */
async function teacherAudiences(): Promise<Audience[]> {
  const { data } = await api<{ slots?: (Slot & { classId?: string | null; groupId?: string | null; subjectId?: string | null })[] }>('GET', '/api/v1/me/timetable');
  const seen = new Map<string, Audience>();
  for (const s of data.slots ?? []) {
    const value = `${s.classId ?? ''}|${s.groupId ?? ''}|${s.subjectId ?? ''}`;
    if ((s.classId || s.groupId) && !seen.has(value)) seen.set(value, { value, label: [s.audience, s.subject].filter(Boolean).join(' — '), classId: s.classId ?? null, groupId: s.groupId ?? null, subjectId: s.subjectId ?? null });
  }
  return [...seen.values()].sort((a, b) => a.label.localeCompare(b.label, 'fr'));
}

function NewWork({ onCreated }: { onCreated: () => void }) {
  const t = useT();
  const current = useValue(lang);
  const [audiences, setAudiences] = useState<Audience[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => {
    teacherAudiences().then(setAudiences, () => setAudiences([]));
  }, []);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(formRef.current!);
    const audience = audiences?.find((a) => a.value === form.get('audience'));
    const title = String(form.get('title') ?? '').trim();
    const date = String(form.get('date') ?? '');
    if (!audience || !title || !date) {
      setError(t('newWork.missing'));
      return;
    }
    const when = form.get('publish');
    const scheduleAt = String(form.get('publishAt') ?? '');
    const publishAt = when === 'now' ? 'now' : when === 'later' && scheduleAt ? new Date(scheduleAt).toISOString() : null;
    const text = String(form.get('body') ?? '');
    setBusy(true);
    setError(undefined);
    try {
      const { data } = await api<{ entry: HomeworkEntry }>('POST', '/api/v1/homework', {
        body: {
          kind: 'travail', title, date,
          bodyHtml: textToHtml(text),
          onlineHandin: form.get('online') === 'on',
          publishAt,
          ...(audience.classId ? { classId: audience.classId } : { groupId: audience.groupId }),
          ...(audience.subjectId ? { subjectId: audience.subjectId } : {}),
          ...(form.get('dueTime') ? { dueTime: String(form.get('dueTime')) } : {}),
        },
      });
      const file = form.get('attachment');
      if (file instanceof File && file.size > 0) {
        const up = new FormData();
        up.append('file', file, file.name);
        await upload('POST', `/api/v1/homework/${encodeURIComponent(data.entry.id)}/attachments`, up);
      }
      formRef.current!.reset();
      announce(t(publishAt === 'now' ? 'newWork.published' : publishAt ? 'newWork.scheduled' : 'newWork.drafted'));
      onCreated();
    } catch (err) {
      setError(errorMessage(err, current));
    } finally {
      setBusy(false);
    }
  };
  return (
    <details class="card">
      <summary>{t('newWork.title')}</summary>
      <form ref={formRef} onSubmit={(e) => void submit(e)} noValidate data-testid="new-work">
        <label for="nw-audience">{t('newWork.audience')}</label>
        <select id="nw-audience" name="audience" required>
          {(audiences ?? []).map((a) => (
            <option key={a.value} value={a.value}>
              {a.label}
            </option>
          ))}
        </select>
        <label for="nw-title">{t('newWork.titleLabel')}</label>
        <input id="nw-title" name="title" required maxLength={200} />
        <label for="nw-body">{t('newWork.body')}</label>
        <textarea id="nw-body" name="body" rows={5} maxLength={50_000} />
        <label for="nw-date">{t('newWork.date')}</label>
        <input id="nw-date" name="date" type="date" required />
        <label for="nw-time">{t('newWork.time')}</label>
        <input id="nw-time" name="dueTime" type="time" />
        <label for="nw-file">{t('newWork.attachment')}</label>
        <input id="nw-file" name="attachment" type="file" accept="application/pdf,image/*" />
        <div>
          <input id="nw-online" name="online" type="checkbox" /> <label for="nw-online">{t('work.onlineHandin')}</label>
        </div>
        <fieldset class="choice">
          <legend>{t('newWork.publish')}</legend>
          <div>
            <input type="radio" id="nw-now" name="publish" value="now" defaultChecked /> <label for="nw-now">{t('newWork.now')}</label>
          </div>
          <div>
            <input type="radio" id="nw-later" name="publish" value="later" /> <label for="nw-later">{t('newWork.later')}</label>
          </div>
          <div>
            <input type="radio" id="nw-draft" name="publish" value="draft" /> <label for="nw-draft">{t('newWork.draft')}</label>
          </div>
          <label for="nw-at">{t('newWork.at')}</label>
          <input id="nw-at" name="publishAt" type="datetime-local" />
        </fieldset>
        {error && <p role="alert">{error}</p>}
        <button type="submit" disabled={busy}>
          {t('newWork.submit')}
        </button>
      </form>
    </details>
  );
}
