import { useEffect, useRef, useState } from 'preact/hooks';
import { ErrorLine, ProgressLine } from '../../app/FormParts.js';
import { ApiError } from '../../api/client.js';
import type { HomeworkEntry, PupilHandins, Receipt } from '../../api/types.js';
import { EmptyState } from '../../app/EmptyState.js';
import { errorMessage } from '../../app/errors.js';
import { announce, lang, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { formatDateTime } from '../../i18n/index.js';
import { downloadReceipt, handinsOf, handinsOverview, myChildren, upload } from './homework.api.js';
import { contentSignature, formatBytes, HandinAttempt } from './homework.state.js';
import { AttachmentLink, Loading, SelectedFiles } from './shared.js';

/** Hand-ins of work "à rendre en ligne": the pupil's form and receipt, the parent's view, the teacher's review. */

/** A weak link may drop an upload: it is tried again this many times (same key) before asking. */
const MAX_AUTO_RETRIES = 3;

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
export function PupilHandin({ entry, pupilId }: { entry: HomeworkEntry; pupilId: string }) {
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
          <SelectedFiles files={files} />
          {progress !== undefined && (
            <ProgressLine id="handin-progress" label={t('handin.progress')} percent={Math.round(progress * 100)} />
          )}
          <p role="status">{status}</p>
          <ErrorLine error={error} />
          <button type="submit" disabled={progress !== undefined}>
            {mine?.current ? t('handin.replace') : t('handin.submit')}
          </button>
        </form>
      )}
    </>
  );
}

/** A parent: each child's hand-in, receipt and the teacher's return. */
export function ParentHandins({ entry }: { entry: HomeworkEntry }) {
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
export function TeacherHandins({ entry }: { entry: HomeworkEntry }) {
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
            <div class="table-scroll">
              <table>
                <caption>{t('handins.caption', { audience: o.entry.audience ?? '' })}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('handins.pupil')}</th>
                    <th scope="col">{t('handins.status')}</th>
                    <th scope="col">{t('handins.action')}</th>
                  </tr>
                </thead>
                <tbody>
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
                </tbody>
              </table>
            </div>
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
