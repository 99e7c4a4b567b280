import { useRef, useState } from 'preact/hooks';
import type { NewsItem, Profile } from '../../api/types.js';
import { EmptyState, PageTitle } from '../../app/EmptyState.js';
import { errorMessage } from '../../app/errors.js';
import { Loading } from '../../app/Loading.js';
import { currentSearch, navigate, ROUTES } from '../../app/router.js';
import { announce, lang, me, outboxEntries, useT } from '../../app/state.js';
import { queueWrite } from '../../offline/outbox-runner.js';
import { useValue } from '../../app/store.js';
import { formatDateTime } from '../../i18n/index.js';
import { acknowledgePath, attachmentsPath, createNews, getNews, listAcks, listNews, updateNews, withdrawNews, writerAudiences, type AckFilter, type AckRow, type NewsDetail, type NewsView } from './news.api.js';
import { localToIso, newsHref, textToHtml } from './news.state.js';
import { AttachmentLink } from '../homework/AttachmentLink.js';
import { upload } from '../homework/homework.api.js';

const WRITERS: ReadonlySet<Profile> = new Set(['enseignant', 'personnel', 'admin_etablissement']);
const STAFF: ReadonlySet<Profile> = new Set(['personnel', 'admin_etablissement']);

/** Actualités: the current news (everyone), drafts and archive (writers), one news with its acknowledgements. */
export default function NewsPage() {
  const search = useValue(currentSearch);
  const person = useValue(me);
  if (!person) return null;
  const id = new URLSearchParams(search).get('id');
  if (id) return <NewsDetailPage key={id} id={id} />;
  return <NewsList writer={WRITERS.has(person.profile)} staff={STAFF.has(person.profile)} />;
}

function NewsList({ writer, staff }: { writer: boolean; staff: boolean }) {
  const t = useT();
  const [view, setView] = useState<NewsView>('current');
  return (
    <section aria-labelledby="page-title">
      <PageTitle>{t('news.title')}</PageTitle>
      {writer && <NewsForm staff={staff} onDone={(id) => navigate(ROUTES.news, { search: `?id=${encodeURIComponent(id)}` })} />}
      {writer && (
        <fieldset class="choice">
          <legend>{t('news.show')}</legend>
          {(['current', 'upcoming', 'archive'] as const).map((v) => (
            <div key={v}>
              <input type="radio" id={`view-${v}`} name="view" value={v} checked={view === v} onChange={() => setView(v)} />
              <label for={`view-${v}`}>{t(`news.view.${v}`)}</label>
            </div>
          ))}
        </fieldset>
      )}
      <NewsPages key={view} view={view} />
    </section>
  );
}

/** One page after another ("voir plus"), so a long archive never arrives whole on a weak link. */
function NewsPages({ view }: { view: NewsView }) {
  const t = useT();
  const [more, setMore] = useState<NewsItem[]>([]);
  const [next, setNext] = useState<number | null | undefined>();
  const loadMore = async (offset: number) => {
    const { data } = await listNews(view, offset);
    setMore((m) => [...m, ...data.news]);
    setNext(data.nextOffset);
  };
  return (
    <Loading load={() => listNews(view)}>
      {(first) => {
        const items = [...first.news, ...more];
        const nextOffset = next === undefined ? first.nextOffset : next;
        if (items.length === 0) return <EmptyState>{t(view === 'current' ? 'news.none' : 'news.noneHere')}</EmptyState>;
        return (
          <>
            <ul class="work-due card" data-testid="news-list">
              {items.map((n) => (
                <NewsLine key={n.id} item={n} />
              ))}
            </ul>
            {nextOffset !== null && (
              <button type="button" class="button-secondary" onClick={() => void loadMore(nextOffset)}>
                {t('news.more')}
              </button>
            )}
          </>
        );
      }}
    </Loading>
  );
}

function NewsLine({ item: n }: { item: NewsItem }) {
  const t = useT();
  const current = useValue(lang);
  return (
    <li class="work-item">
      <p class="work-when">
        {n.audience.name}
        {n.publishFrom && ` · ${formatDateTime(n.publishFrom, current)}`}
        {n.state !== 'published' && ` · ${t(`news.state.${n.state}`)}`}
        {n.pinned && ` · ${t('news.pinned')}`}
      </p>
      <p class="work-title">
        <a href={newsHref(n.id)}>{n.headline}</a>
        {n.requiresAck && <strong class="badge badge-online">{t('news.ackAsked')}</strong>}
      </p>
      {n.excerpt && <p class="slot-meta">{n.excerpt}</p>}
    </li>
  );
}

function NewsDetailPage({ id }: { id: string }) {
  const t = useT();
  return (
    <section aria-labelledby="page-title">
      <p>
        <a href={ROUTES.news}>{t('news.back')}</a>
      </p>
      <Loading load={() => getNews(id)}>{({ news }, reload) => <Detail news={news} reload={reload} />}</Loading>
    </section>
  );
}

function Detail({ news: n, reload }: { news: NewsDetail; reload: () => void }) {
  const t = useT();
  const current = useValue(lang);
  const [error, setError] = useState<string | undefined>();
  const [editing, setEditing] = useState(false);
  const [queued, setQueued] = useState(false);
  // Through the outbox (an Idempotency-Key from the start): a parent on a weak link or offline
  // acknowledges now, and it is delivered once, when Préau can be reached.
  const acknowledge = async () => {
    const path = acknowledgePath(n.id);
    await queueWrite('news-ack', 'POST', path, undefined, n.headline);
    if (outboxEntries.get().some((e) => e.path === path && e.state === 'pending')) {
      setQueued(true);
      announce(t('news.ackQueued'));
    } else {
      announce(t('news.acknowledged'));
      reload();
    }
  };
  const act = async (run: () => Promise<unknown>, done: string) => {
    setError(undefined);
    try {
      await run();
      announce(done);
      reload();
    } catch (err) {
      setError(errorMessage(err, current));
    }
  };
  const open = n.state !== 'withdrawn' && n.state !== 'expired';
  return (
    <article class="card" data-testid="news-detail">
      <PageTitle>{n.headline}</PageTitle>
      <p class="work-when">
        {n.audience.name}
        {n.publishFrom && ` · ${t('news.publishedOn', { date: formatDateTime(n.publishFrom, current) })}`}
        {n.editedAt && ` · ${t('news.editedOn', { date: formatDateTime(n.editedAt, current) })}`}
        {n.state !== 'published' && ` · ${t(`news.state.${n.state}`)}`}
      </p>
      {n.publishUntil && <p class="slot-meta">{t('news.until', { date: formatDateTime(n.publishUntil, current) })}</p>}
      <div class="rich-text" dangerouslySetInnerHTML={{ __html: n.bodyHtml }} />
      {n.attachments.length > 0 && (
        <>
          <h2>{t('news.attachments')}</h2>
          <ul class="files">
            {n.attachments.map((a) => (
              <AttachmentLink key={a.id} file={a} />
            ))}
          </ul>
        </>
      )}
      {n.acknowledgedAt === null && !queued && (
        <button type="button" data-testid="news-ack" onClick={() => void acknowledge()}>
          {t('news.acknowledge')}
        </button>
      )}
      {n.acknowledgedAt === null && queued && (
        <p class="notice" data-testid="news-ack-queued">
          {t('news.ackQueued')}
        </p>
      )}
      {n.acknowledgedAt && (
        <p class="success" data-testid="news-acked">
          {t('news.acknowledgedOn', { date: formatDateTime(n.acknowledgedAt, current) })}
        </p>
      )}
      {error && <p role="alert">{error}</p>}
      {n.canManage && open && (
        <div class="inline-links">
          {(n.state === 'draft' || n.state === 'scheduled') && (
            <button type="button" onClick={() => void act(() => updateNews(n.id, { publishFrom: 'now' }), t('news.published'))}>
              {t('news.publishNow')}
            </button>
          )}{' '}
          <button type="button" class="button-secondary" onClick={() => setEditing(!editing)} aria-expanded={editing}>
            {t('news.edit')}
          </button>{' '}
          <button type="button" class="button-secondary" onClick={() => confirm(t('news.withdrawConfirm')) && void act(() => withdrawNews(n.id), t('news.withdrawn'))}>
            {t('news.withdraw')}
          </button>
        </div>
      )}
      {editing && <NewsForm staff={false} initial={n} onDone={() => { setEditing(false); reload(); }} />}
      {n.acks && <Acks id={n.id} counts={n.acks} />}
    </article>
  );
}

/** Who has acknowledged and who has not, a page at a time. */
function Acks({ id, counts }: { id: string; counts: { done: number; total: number } }) {
  const t = useT();
  const current = useValue(lang);
  const [filter, setFilter] = useState<AckFilter>('pending');
  const [rows, setRows] = useState<AckRow[] | undefined>();
  const [next, setNext] = useState<number | null>(null);
  const load = async (state: AckFilter, offset: number) => {
    const { data } = await listAcks(id, state, offset);
    setRows((r) => (offset === 0 ? data.rows : [...(r ?? []), ...data.rows]));
    setNext(data.nextOffset);
  };
  return (
    <section aria-labelledby="acks-title">
      <h2 id="acks-title">{t('news.acksTitle')}</h2>
      <p data-testid="news-ack-count">{t('news.acksCount', { done: counts.done, total: counts.total })}</p>
      <label for="acks-filter">{t('news.acksShow')}</label>{' '}
      <select id="acks-filter" value={filter} onChange={(e) => setFilter((e.currentTarget as HTMLSelectElement).value as AckFilter)}>
        {(['pending', 'done', 'all'] as const).map((f) => (
          <option key={f} value={f}>
            {t(`news.acks.${f}`)}
          </option>
        ))}
      </select>{' '}
      <button type="button" class="button-secondary" onClick={() => void load(filter, 0)}>
        {t('news.acksLoad')}
      </button>
      {rows && rows.length === 0 && <EmptyState>{t('news.acksNone')}</EmptyState>}
      {rows && rows.length > 0 && (
        <div class="table-scroll">
          <table>
            <caption class="visually-hidden">{t('news.acksTitle')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('news.col.name')}</th>
                <th scope="col">{t('news.col.acknowledged')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.person.id}>
                  <th scope="row">{r.person.name}</th>
                  <td>{r.acknowledgedAt ? formatDateTime(r.acknowledgedAt, current) : t('news.notYet')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {rows && next !== null && (
        <button type="button" class="button-secondary" onClick={() => void load(filter, next)}>
          {t('news.more')}
        </button>
      )}
    </section>
  );
}

/** Paragraphs of sanitised HTML back to typed text (to edit a news). */
function htmlToText(html: string): string {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const blocks = [...doc.body.children].map((el) => (el.textContent ?? '').trim()).filter(Boolean);
  return blocks.length ? blocks.join('\n\n') : (doc.body.textContent ?? '');
}

/** Write a news (audience, text, acknowledgement, pin, when) or edit one (its text and options). */
function NewsForm({ staff, initial, onDone }: { staff: boolean; initial?: NewsDetail; onDone: (id: string) => void }) {
  const t = useT();
  const current = useValue(lang);
  const [audiences, setAudiences] = useState<{ value: string; label: string }[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const prefix = initial ? 'ne' : 'nn';
  const onOpen = () => {
    if (!initial && !audiences) writerAudiences(staff).then(setAudiences, () => setAudiences([]));
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(formRef.current!);
    const headline = String(form.get('headline') ?? '').trim();
    const [kind, id] = String(form.get('audience') ?? '').split(':');
    if (!headline || (!initial && !id)) {
      setError(t('news.missing'));
      return;
    }
    const when = form.get('publish');
    const at = localToIso(String(form.get('publishAt') ?? ''));
    if (when === 'later' && !at) {
      setError(t('news.missingDate'));
      return;
    }
    const until = localToIso(String(form.get('publishUntil') ?? ''));
    const body = {
      headline,
      bodyHtml: textToHtml(String(form.get('body') ?? '')),
      requiresAck: form.get('ack') === 'on',
      pinned: form.get('pin') === 'on',
      ...(until ? { publishUntil: until } : {}),
      ...(initial ? {} : { audience: { kind, id }, publishFrom: when === 'now' ? 'now' : when === 'later' ? at : null }),
    };
    setBusy(true);
    setError(undefined);
    try {
      const { data } = initial ? await updateNews(initial.id, body) : await createNews(body);
      const file = form.get('attachment');
      if (file instanceof File && file.size > 0) {
        const up = new FormData();
        up.append('file', file, file.name);
        await upload('POST', attachmentsPath(data.news.id), up);
      }
      announce(t(initial ? 'news.saved' : when === 'now' ? 'news.published' : when === 'later' ? 'news.scheduled' : 'news.drafted'));
      formRef.current!.reset();
      onDone(data.news.id);
    } catch (err) {
      setError(errorMessage(err, current));
    } finally {
      setBusy(false);
    }
  };
  const fields = (
    <form ref={formRef} onSubmit={(e) => void submit(e)} noValidate data-testid={initial ? 'edit-news' : 'new-news'}>
      {!initial && (
        <>
          <label for={`${prefix}-audience`}>{t('news.audience')}</label>
          <select id={`${prefix}-audience`} name="audience" required>
            {(audiences ?? []).map((a) => (
              <option key={a.value} value={a.value}>
                {a.label}
              </option>
            ))}
          </select>
        </>
      )}
      <label for={`${prefix}-headline`}>{t('news.headline')}</label>
      <input id={`${prefix}-headline`} name="headline" required maxLength={150} defaultValue={initial?.headline} />
      <label for={`${prefix}-body`}>{t('news.body')}</label>
      <textarea id={`${prefix}-body`} name="body" rows={6} maxLength={30_000} defaultValue={initial ? htmlToText(initial.bodyHtml) : undefined} />
      <div>
        <input id={`${prefix}-ack`} name="ack" type="checkbox" defaultChecked={initial?.requiresAck} /> <label for={`${prefix}-ack`}>{t('news.requireAck')}</label>
      </div>
      <div>
        <input id={`${prefix}-pin`} name="pin" type="checkbox" defaultChecked={initial?.pinned} /> <label for={`${prefix}-pin`}>{t('news.pin')}</label>
      </div>
      {!initial && (
        <fieldset class="choice">
          <legend>{t('news.when')}</legend>
          {(['now', 'later', 'draft'] as const).map((w) => (
            <div key={w}>
              <input type="radio" id={`${prefix}-${w}`} name="publish" value={w} defaultChecked={w === 'now'} /> <label for={`${prefix}-${w}`}>{t(`news.when.${w}`)}</label>
            </div>
          ))}
          <label for={`${prefix}-at`}>{t('news.at')}</label>
          <input id={`${prefix}-at`} name="publishAt" type="datetime-local" />
        </fieldset>
      )}
      <label for={`${prefix}-file`}>{t('news.attachment')}</label>
      <input id={`${prefix}-file`} name="attachment" type="file" accept="application/pdf,image/*" />
      <label for={`${prefix}-until`}>{t('news.untilLabel')}</label>
      <input id={`${prefix}-until`} name="publishUntil" type="datetime-local" />
      {error && <p role="alert">{error}</p>}
      <button type="submit" disabled={busy}>
        {t(initial ? 'news.save' : 'news.submit')}
      </button>
    </form>
  );
  if (initial) return fields;
  return (
    <details class="card" onToggle={onOpen}>
      <summary>{t('news.write')}</summary>
      {fields}
    </details>
  );
}
