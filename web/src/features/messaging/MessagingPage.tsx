import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../../api/client.js';
import { upload } from '../../api/upload.js';
import type { Attachment, Message, MessageBox, MessageSummary } from '../../api/types.js';
import { EmptyState, PageTitle } from '../../app/EmptyState.js';
import { errorMessage } from '../../app/errors.js';
import { Counter } from '../../app/Counter.js';
import { Loading } from '../../app/Loading.js';
import { MorePages } from '../../app/MorePages.js';
import { currentSearch, navigate, ROUTES } from '../../app/router.js';
import { announce, lang, me, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { formatDateTime } from '../../i18n/index.js';
import { queueWrite } from '../../offline/outbox-runner.js';
import { attachmentPath, createDraft, getMessage, listBox, removeAttachment, sendDraft, sendMessage, unreadCount, updateDraft, type Outgoing } from './messaging.api.js';
import {
  attachmentProblem, BOXES, budget, composeProblem, htmlToText, MAX_BODY_HTML_CHARS, MAX_SUBJECT_CHARS, MAX_SEARCH_CHARS, replySubject, searchOf, textToHtml, viewOf, type Choice,
  type MessagingView,
} from './messaging.state.js';
import { RecipientPicker, useRecipientLabel } from './RecipientPicker.js';

/** A send whose answer a weak link lost is tried again this many times (same key) before asking. */
const MAX_AUTO_RETRIES = 3;
const BOX_LABELS = { inbox: 'mail.box.inbox', sent: 'mail.box.sent', drafts: 'mail.box.drafts' } as const;

const go = (view: Partial<MessagingView>) => navigate(ROUTES.messaging, { search: searchOf(view) });

/**
 * La messagerie: folders, the list, a conversation, the form. On a phone one pane at a time (a
 * conversation or the form replaces the list, with a way back); side by side on a wide screen.
 */
export default function MessagingPage() {
  const t = useT();
  const search = useValue(currentSearch);
  const view = viewOf(search);
  const [unread, setUnread] = useState<number | undefined>();
  const [listVersion, setListVersion] = useState(0);
  useEffect(() => {
    unreadCount().then(({ data }) => setUnread(data.unread), () => undefined);
  }, [listVersion]);
  const detail = view.conversation !== undefined || view.compose;
  const changed = () => setListVersion((v) => v + 1);
  return (
    <div class={detail ? 'mail mail-detail' : 'mail'}>
      <PageTitle>{t('nav.messaging')}</PageTitle>
      <div class="mail-list">
        <nav aria-label={t('mail.folders')}>
          <ul class="folders">
            {BOXES.map((b) => (
              <li key={b}>
                <a href={`${ROUTES.messaging}${searchOf({ box: b })}`} aria-current={view.box === b && !view.search ? 'page' : undefined}>
                  {t(BOX_LABELS[b])}
                  {b === 'inbox' && unread !== undefined && unread > 0 && <span class="count"> {t('mail.unreadCount', { count: unread })}</span>}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <p>
          <a class="button" href={`${ROUTES.messaging}${searchOf({ compose: true, box: view.box })}`}>
            {t('mail.write')}
          </a>
        </p>
        <SearchForm view={view} />
        <MessageList key={`${view.box}|${view.search ?? ''}|${listVersion}`} view={view} />
      </div>
      {detail && (
        <div class="mail-pane">
          <p class="back-link">
            <a href={`${ROUTES.messaging}${searchOf({ box: view.box, ...(view.search ? { search: view.search } : {}) })}`}>{t('mail.back')}</a>
          </p>
          {view.compose && !view.conversation && <Compose key="new" onDone={changed} {...(view.prefill ? { prefill: view.prefill } : {})} />}
          {view.conversation && <Conversation key={view.conversation} id={view.conversation} box={view.box} onChange={changed} onRead={() => setUnread((u) => (u === undefined ? u : Math.max(0, u - 1)))} />}
        </div>
      )}
    </div>
  );
}

function SearchForm({ view }: { view: MessagingView }) {
  const t = useT();
  const [q, setQ] = useState(view.search ?? '');
  return (
    <form
      role="search"
      class="mail-search"
      onSubmit={(e) => {
        e.preventDefault();
        go({ box: view.box, ...(q.trim().length >= 2 ? { search: q.trim() } : {}) });
      }}
    >
      <label for="mail-q">{t('mail.search.label')}</label>
      <div class="inline-form">
        <input id="mail-q" type="search" minLength={2} maxLength={MAX_SEARCH_CHARS} value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
        <button type="submit" class="button-secondary">
          {t('mail.search.submit')}
        </button>
      </div>
    </form>
  );
}

function MessageList({ view }: { view: MessagingView }) {
  const t = useT();
  const heading = view.search ? t('mail.search.results', { q: view.search, box: t(BOX_LABELS[view.box]) }) : t(BOX_LABELS[view.box]);
  const loadPage = (cursor: string) => listBox(view.box, cursor, view.search).then(({ data }) => ({ items: data.messages, nextCursor: data.nextCursor }));
  return (
    <section aria-labelledby="mail-list-title" data-testid="mail-list">
      <h2 id="mail-list-title">{heading}</h2>
      <Loading load={() => listBox(view.box, undefined, view.search)}>
        {(first) =>
          first.messages.length === 0 ? (
            <EmptyState>{t(view.search ? 'mail.search.none' : view.box === 'inbox' ? 'mail.empty.inbox' : view.box === 'sent' ? 'mail.empty.sent' : 'mail.empty.drafts')}</EmptyState>
          ) : (
            <MorePages first={first.messages} nextCursor={first.nextCursor} loadPage={loadPage} label={t('mail.more')}>
              {(all) => (
                <ul class="messages">
                  {all.map((m) => (
                    // Shown read at once; the count goes down when the message view marks it read.
                    <MessageLine key={m.id} m={m} view={view} onOpen={() => view.box === 'inbox' && (m.read = true)} />
                  ))}
                </ul>
              )}
            </MorePages>
          )
        }
      </Loading>
    </section>
  );
}

function MessageLine({ m, view, onOpen }: { m: MessageSummary; view: MessagingView; onOpen: () => void }) {
  const t = useT();
  const current = useValue(lang);
  const labelOf = useRecipientLabel();
  const who = view.box === 'inbox' ? (m.from.name ?? t('mail.unknownSender')) : m.to.map(labelOf).join(', ') || t('mail.noRecipient');
  const when = m.sentAt ?? m.updatedAt;
  return (
    <li class={m.read ? 'message-line' : 'message-line message-unread'} data-testid="message-line" data-read={m.read ? 'true' : 'false'}>
      <a href={`${ROUTES.messaging}${searchOf({ box: view.box, conversation: m.id, ...(view.search ? { search: view.search } : {}) })}`} aria-current={view.conversation === m.id ? 'true' : undefined} onClick={onOpen}>
        {!m.read && <span class="badge badge-unread">{t('mail.unread')}</span>}
        <span class="message-who">{view.box === 'inbox' ? who : t('mail.toWho', { who })}</span>
        <span class="message-subject">{m.subject || t('mail.noSubject')}</span>
        {when && <span class="slot-meta">{formatDateTime(when, current)}</span>}
        {m.attachmentCount > 0 && <span class="slot-meta">{t('mail.attachmentCount', { count: m.attachmentCount })}</span>}
      </a>
    </li>
  );
}

/** One message with its conversation; opening it marks it read (through the outbox). */
function Conversation({ id, box, onChange, onRead }: { id: string; box: MessageBox; onChange: () => void; onRead: () => void }) {
  return (
    <Loading load={() => getMessage(id)}>
      {({ message }) => (message.state === 'draft' ? <Compose draft={message} onDone={onChange} /> : <MessageView message={message} box={box} onChange={onChange} onRead={onRead} />)}
    </Loading>
  );
}

function MessageView({ message: m, box, onChange, onRead }: { message: Message; box: MessageBox; onChange: () => void; onRead: () => void }) {
  const t = useT();
  const current = useValue(lang);
  const person = useValue(me);
  const labelOf = useRecipientLabel();
  const [replying, setReplying] = useState(false);
  const mine = person?.id === m.from.id;
  const markRead = (value: boolean) => queueWrite('message-read', 'PUT', `/api/v1/messages/${encodeURIComponent(m.id)}/read`, { read: value }, m.subject);
  useEffect(() => {
    if (!m.read && !mine) {
      void markRead(true);
      onRead();
    }
  }, [m.id]);
  const markUnread = async () => {
    await markRead(false);
    announce(t('mail.markedUnread'));
    onChange();
    // Like a mail app: the message left unread, back to the list.
    go({ box });
  };
  const remove = async () => {
    if (!confirm(t('mail.deleteConfirm'))) return;
    await queueWrite('message-delete', 'DELETE', `/api/v1/messages/${encodeURIComponent(m.id)}`, undefined, m.subject);
    announce(t('mail.deleted'));
    onChange();
    go({ box });
  };
  // A reply goes to whoever wrote; one's own message is answered to its recipients again.
  const replyTo: Choice[] = mine ? [...m.to] : [{ kind: 'person', id: m.from.id, name: m.from.name ?? '' }];
  return (
    <>
      <article class="card" aria-labelledby="message-title" data-testid="message">
        <h2 id="message-title">{m.subject || t('mail.noSubject')}</h2>
        <dl class="facts">
          <dt>{t('mail.from')}</dt>
          <dd>{m.from.name ?? t('mail.unknownSender')}</dd>
          <dt>{t('mail.to')}</dt>
          <dd>{m.to.map(labelOf).join(', ')}</dd>
          {m.cc.length > 0 && (
            <>
              <dt>{t('mail.cc')}</dt>
              <dd>{m.cc.map(labelOf).join(', ')}</dd>
            </>
          )}
          {m.sentAt && (
            <>
              <dt>{t('mail.sentAt')}</dt>
              <dd>{formatDateTime(m.sentAt, current)}</dd>
            </>
          )}
        </dl>
        {/* Sanitised by the server against an allow-list (messaging.service): content only. */}
        <div class="rich-text" dangerouslySetInnerHTML={{ __html: m.bodyHtml }} />
        {m.attachments.length > 0 && (
          <>
            <h3>{t('mail.attachments')}</h3>
            <ul class="files">
              {m.attachments.map((a) => (
                <li key={a.id}>
                  <a href={a.url} download={a.fileName}>
                    {t('homework.download', { name: a.fileName })}
                  </a>
                </li>
              ))}
            </ul>
          </>
        )}
        <div class="actions">
          <button type="button" aria-expanded={replying} onClick={() => setReplying(!replying)}>
            {t('mail.reply')}
          </button>
          {!mine && (
            <button type="button" class="button-secondary" onClick={() => void markUnread()}>
              {t('mail.markUnread')}
            </button>
          )}
          <button type="button" class="button-secondary" onClick={() => void remove()}>
            {t('mail.delete')}
          </button>
        </div>
      </article>
      {replying && <Compose key={`reply-${m.id}`} reply={{ to: replyTo, subject: replySubject(m.subject), replyTo: m.id }} onDone={() => { setReplying(false); onChange(); }} />}
      {m.thread.length > 1 && (
        <section class="card" aria-labelledby="thread-title">
          <h3 id="thread-title">{t('mail.thread', { count: m.thread.length })}</h3>
          <ol class="thread">
            {m.thread.map((x) => (
              <li key={x.id}>
                <a href={`${ROUTES.messaging}${searchOf({ box, conversation: x.id })}`} aria-current={x.id === m.id ? 'true' : undefined}>
                  {x.from.name ?? t('mail.unknownSender')} — {x.subject || t('mail.noSubject')}
                </a>{' '}
                {x.sentAt && <span class="slot-meta">{formatDateTime(x.sentAt, current)}</span>}
                {!x.read && <span class="badge badge-unread">{t('mail.unread')}</span>}
              </li>
            ))}
          </ol>
        </section>
      )}
    </>
  );
}

interface ComposeProps {
  onDone: () => void;
  draft?: Message;
  reply?: { to: Choice[]; subject: string; replyTo: string };
  /** Recipients chosen by the page that opened the form; the server checks each against the communication rules when sending. */
  prefill?: Choice[];
}

/** Writing: recipients from the directory, subject and text with their limits, files, draft, send. */
function Compose({ onDone, draft, reply, prefill }: ComposeProps) {
  const t = useT();
  const current = useValue(lang);
  const prefix = reply ? 'reply' : 'compose';
  const [to, setTo] = useState<Choice[]>(draft?.to ?? reply?.to ?? prefill ?? []);
  const [cc, setCc] = useState<Choice[]>(draft?.cc ?? []);
  const [subject, setSubject] = useState(draft?.subject ?? reply?.subject ?? '');
  const [text, setText] = useState(draft ? htmlToText(draft.bodyHtml) : '');
  const [draftId, setDraftId] = useState<string | undefined>(draft?.id);
  const [attachments, setAttachments] = useState<Attachment[]>(draft?.attachments ?? []);
  const [progress, setProgress] = useState<number | undefined>();
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState('');
  const [error, setError] = useState<string | undefined>();
  const key = useRef<string | undefined>(undefined);
  const fileInput = useRef<HTMLInputElement>(null);
  const edited = <T,>(set: (v: T) => void) => (v: T) => {
    // New content, new message: a retry keeps its key only while nothing changed.
    key.current = undefined;
    set(v);
  };
  const outgoing = (): Outgoing => ({ to, cc, subject: subject.trim(), bodyHtml: textToHtml(text), ...(reply ? { replyTo: reply.replyTo } : {}) });
  const bodyBudget = budget(textToHtml(text).length, MAX_BODY_HTML_CHARS);
  const subjectBudget = budget(subject.length, MAX_SUBJECT_CHARS);

  const saveDraft = async (): Promise<string> => {
    if (draftId) {
      await updateDraft(draftId, outgoing());
      return draftId;
    }
    const { data } = await createDraft(outgoing(), (key.current ??= crypto.randomUUID()));
    key.current = undefined;
    setDraftId(data.message.id);
    return data.message.id;
  };

  const run = async (what: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await what();
    } catch (err) {
      setError(errorMessage(err, current));
      setStatus('');
    } finally {
      setBusy(false);
      setProgress(undefined);
    }
  };

  const send = (event: Event) => {
    event.preventDefault();
    const problem = composeProblem({ to, cc, subject, body: text });
    if (problem) {
      setError(t(`mail.problem.${problem}`, { max: problem === 'subjectTooLong' ? MAX_SUBJECT_CHARS : MAX_BODY_HTML_CHARS }));
      return;
    }
    void run(async () => {
      const idempotencyKey = (key.current ??= crypto.randomUUID());
      for (let tries = 0; ; tries++) {
        setStatus(tries === 0 ? t('mail.sending') : t('handin.retrying', { n: tries + 1 }));
        try {
          if (draftId) {
            await updateDraft(draftId, outgoing());
            await sendDraft(draftId, idempotencyKey);
          } else await sendMessage(outgoing(), idempotencyKey);
          break;
        } catch (err) {
          // Only a lost answer or an overloaded server is retried; a refusal (rate limit included) is said.
          if (!(err instanceof ApiError) || !(err.kind === 'network' || err.status >= 500) || tries + 1 >= MAX_AUTO_RETRIES) throw err;
          await new Promise((r) => setTimeout(r, 1000 * 2 ** tries * (0.5 + Math.random())));
        }
      }
      key.current = undefined;
      setStatus(t('mail.sent'));
      announce(t('mail.sent'));
      onDone();
      if (!reply) go({ box: 'sent' });
    });
  };

  const attach = (file: File) => {
    const problem = attachmentProblem(attachments, file);
    if (problem) {
      setError(t(`mail.attach.${problem}`));
      return;
    }
    void run(async () => {
      const id = await saveDraft();
      const form = new FormData();
      form.append('file', file, file.name);
      setStatus(t('mail.attach.sending', { name: file.name }));
      setProgress(0);
      const { attachment } = await upload<{ attachment: Attachment }>('POST', attachmentPath(id), form, { onProgress: setProgress });
      setAttachments((list) => [...list, attachment]);
      setStatus(t('mail.attach.done', { name: file.name }));
      announce(t('mail.attach.done', { name: file.name }));
      if (fileInput.current) fileInput.current.value = '';
    });
  };

  return (
    <form class="card compose" onSubmit={send} aria-labelledby={`${prefix}-title`} noValidate data-testid="compose">
      <h2 id={`${prefix}-title`}>{t(reply ? 'mail.replyTitle' : draftId ? 'mail.draftTitle' : 'mail.composeTitle')}</h2>
      <RecipientPicker id={`${prefix}-to`} label={t('mail.to')} chosen={to} other={cc} onChange={edited(setTo)} />
      <RecipientPicker id={`${prefix}-cc`} label={t('mail.cc')} chosen={cc} other={to} onChange={edited(setCc)} />
      <label for={`${prefix}-subject`}>{t('mail.subject')}</label>
      <input id={`${prefix}-subject`} value={subject} maxLength={MAX_SUBJECT_CHARS} aria-describedby={`${prefix}-subject-count`} onInput={(e) => edited(setSubject)((e.currentTarget as HTMLInputElement).value)} />
      <Counter id={`${prefix}-subject-count`} left={subjectBudget.left} />
      <label for={`${prefix}-body`}>{t('mail.body')}</label>
      <textarea id={`${prefix}-body`} rows={8} value={text} aria-describedby={`${prefix}-body-count`} aria-invalid={bodyBudget.over} onInput={(e) => edited(setText)((e.currentTarget as HTMLTextAreaElement).value)} />
      <Counter id={`${prefix}-body-count`} left={bodyBudget.left} />
      <label for={`${prefix}-file`}>{t('mail.attach.label')}</label>
      <p id={`${prefix}-file-hint`} class="hint">
        {t('mail.attach.hint')}
      </p>
      <input ref={fileInput} id={`${prefix}-file`} type="file" aria-describedby={`${prefix}-file-hint`} disabled={busy} onChange={(e) => {
        const f = (e.currentTarget as HTMLInputElement).files?.[0];
        if (f) attach(f);
      }} />
      {progress !== undefined && (
        <p>
          <label for={`${prefix}-progress`}>{t('handin.progress')}</label>{' '}
          <progress id={`${prefix}-progress`} max={100} value={Math.round(progress * 100)}>
            {Math.round(progress * 100)} %
          </progress>
        </p>
      )}
      {attachments.length > 0 && draftId && (
        <ul class="files" aria-label={t('mail.attachments')}>
          {attachments.map((a) => (
            <li key={a.id}>
              {a.fileName}{' '}
              <button type="button" class="button-secondary" onClick={() => void run(async () => {
                await removeAttachment(draftId, a);
                setAttachments((list) => list.filter((x) => x.id !== a.id));
                announce(t('mail.attach.removed', { name: a.fileName }));
              })}>
                {t('mail.attach.remove', { name: a.fileName })}
              </button>
            </li>
          ))}
        </ul>
      )}
      <p role="status" data-testid="compose-status">
        {status}
      </p>
      {error && (
        <p role="alert" class="alert">
          {error}
        </p>
      )}
      <div class="actions">
        <button type="submit" disabled={busy}>
          {t('mail.send')}
        </button>
        <button type="button" class="button-secondary" disabled={busy} onClick={() => void run(async () => {
          await saveDraft();
          setStatus(t('mail.draftSaved'));
          announce(t('mail.draftSaved'));
          onDone();
        })}>
          {t('mail.saveDraft')}
        </button>
      </div>
    </form>
  );
}
