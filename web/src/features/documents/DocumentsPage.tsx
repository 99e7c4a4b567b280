import { useRef, useState } from 'preact/hooks';
import { ApiError } from '../../api/client.js';
import { EmptyState, PageTitle } from '../../app/EmptyState.js';
import { errorMessage } from '../../app/errors.js';
import { ErrorLine, ProgressLine } from '../../app/FormParts.js';
import { currentSearch, ROUTES } from '../../app/router.js';
import { announce, lang, me, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { useRetryingLoad } from '../../app/use-retrying-load.js';
import { formatBytes, formatDateTime } from '../../i18n/index.js';
import {
  createFolder, deleteEntry, emptyTrash, listing, overview, renameEntry, restoreEntry, trash, uploadTransport, type DocEntry, type DocSpace, type Listing, type Quota,
} from './documents.api.js';
import { runResumableUpload, UploadFailure } from './documents.upload.js';

const href = (space: string, folder?: string) => `${ROUTES.documents}?${new URLSearchParams({ espace: space, ...(folder ? { dossier: folder } : {}) })}`;

/** Where a resumable upload of this file into this folder stands, kept across reloads of the page. */
const resumeKey = (space: string, folder: string | undefined, f: File) => `preau.upload:${space}|${folder ?? ''}|${f.name}|${f.size}|${f.lastModified}`;

/** Documents: the spaces one may open, a folder's content, folders, files, uploads that resume. */
export default function DocumentsPage() {
  const t = useT();
  const search = useValue(currentSearch);
  const person = useValue(me);
  const params = new URLSearchParams(search);
  const space = params.get('espace') ?? 'personal';
  const folder = params.get('dossier') ?? undefined;
  const [version, setVersion] = useState(0);
  if (!person) return null;
  const reload = () => setVersion((v) => v + 1);
  return (
    <section aria-labelledby="page-title">
      <PageTitle>{t('nav.documents')}</PageTitle>
      <Overview key={`o${version}`} current={space} />
      <Folder key={`${search}|${version}`} space={space} folder={folder} reload={reload} />
      <Trash key={`t${version}`} reload={reload} />
    </section>
  );
}

function Failed({ error, retry }: { error: ApiError; retry: () => void }) {
  const t = useT();
  const current = useValue(lang);
  return (
    <div class="alert" role="alert">
      <p>{errorMessage(error, current)}</p>
      <button type="button" class="button-secondary" onClick={retry}>
        {t('net.retryNow')}
      </button>
    </div>
  );
}

function Overview({ current }: { current: string }) {
  const t = useT();
  const { state, retryNow } = useRetryingLoad(overview);
  if (state.phase === 'failed') return <Failed error={state.error} retry={retryNow} />;
  if (state.phase !== 'ready') return null;
  return (
    <div class="docs-overview">
      <QuotaBar quota={state.data.quota} />
      <nav aria-label={t('documents.spaces')}>
        <ul class="docs-spaces">
          {state.data.spaces.map((s: DocSpace) => (
            <li key={s.key}>
              <a href={href(s.key)} aria-current={s.key === current ? 'page' : undefined}>
                {s.kind === 'personal' ? t('documents.mine') : s.name}
              </a>
            </li>
          ))}
        </ul>
      </nav>
    </div>
  );
}

function QuotaBar({ quota }: { quota: Quota }) {
  const t = useT();
  const current = useValue(lang);
  const percent = quota.limitBytes > 0 ? Math.min(100, Math.round((quota.usedBytes / quota.limitBytes) * 100)) : 100;
  const text = t('documents.quota', { used: formatBytes(quota.usedBytes, current), limit: formatBytes(quota.limitBytes, current) });
  return (
    <p class="docs-quota">
      <label for="docs-quota">{text}</label>{' '}
      <progress id="docs-quota" max={100} value={percent} aria-valuetext={`${percent} %`}>
        {percent} %
      </progress>
    </p>
  );
}

function Folder({ space, folder, reload }: { space: string; folder: string | undefined; reload: () => void }) {
  const { state, retryNow } = useRetryingLoad(() => listing(space, folder));
  const t = useT();
  if (state.phase === 'failed') return <Failed error={state.error} retry={retryNow} />;
  if (state.phase !== 'ready')
    return (
      <p class="notice" role="status">
        {t('app.loading')}
      </p>
    );
  return <FolderView data={state.data} space={space} folder={folder} reload={reload} />;
}

function FolderView({ data, space, folder, reload }: { data: Listing; space: string; folder: string | undefined; reload: () => void }) {
  const t = useT();
  const [more, setMore] = useState<DocEntry[]>([]);
  const [nextOffset, setNextOffset] = useState(data.nextOffset);
  const spaceName = data.space.kind === 'personal' ? t('documents.mine') : data.space.name;
  const entries = [...data.entries, ...more];
  const loadMore = async () => {
    if (nextOffset === null) return;
    const r = await listing(space, folder, nextOffset);
    setMore((m) => [...m, ...r.data.entries]);
    setNextOffset(r.data.nextOffset);
  };
  return (
    <div class="card">
      <nav aria-label={t('documents.breadcrumb')}>
        <ol class="breadcrumb">
          <li>{data.breadcrumb.length === 0 ? <span aria-current="page">{spaceName}</span> : <a href={href(space)}>{spaceName}</a>}</li>
          {data.breadcrumb.map((b, i) => (
            <li key={b.id}>{i === data.breadcrumb.length - 1 ? <span aria-current="page">{b.name}</span> : <a href={href(space, b.id)}>{b.name}</a>}</li>
          ))}
        </ol>
      </nav>
      <h2 id="folder-title">{data.folder?.name ?? spaceName}</h2>
      {data.folder?.dropBox && <p class="hint">{t(data.canWrite ? 'documents.dropBoxTeacher' : 'documents.dropBoxPupil')}</p>}
      {entries.length === 0 ? (
        <EmptyState>{t(data.canUpload ? 'documents.emptyWritable' : 'documents.empty')}</EmptyState>
      ) : (
        <div class="table-scroll">
          <table class="docs-table">
            <caption class="visually-hidden">{t('documents.contentOf', { name: data.folder?.name ?? spaceName })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('documents.name')}</th>
                <th scope="col">{t('documents.type')}</th>
                <th scope="col" class="num">
                  {t('documents.size')}
                </th>
                <th scope="col">{t('documents.updated')}</th>
                <th scope="col">{t('documents.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <EntryRow key={e.id} entry={e} space={space} reload={reload} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {nextOffset !== null && (
        <button type="button" class="button-secondary" onClick={() => void loadMore()}>
          {t('documents.more')}
        </button>
      )}
      {data.canCreateFolder && <NewFolder space={space} folder={folder} shared={data.space.kind !== 'personal'} onDone={reload} />}
      {data.canUpload && <UploadForm space={space} folder={folder} onDone={reload} />}
    </div>
  );
}

function typeLabel(e: DocEntry, t: ReturnType<typeof useT>): string {
  if (e.kind === 'folder') return t(e.dropBox ? 'documents.dropBox' : 'documents.folder');
  const ct = e.contentType ?? '';
  if (ct === 'application/pdf') return 'PDF';
  if (ct.startsWith('image/')) return t('documents.image');
  if (ct.startsWith('video/')) return t('documents.video');
  if (ct.startsWith('audio/')) return t('documents.audio');
  if (ct === 'text/plain') return t('documents.text');
  return t('documents.file');
}

function EntryRow({ entry: e, space, reload }: { entry: DocEntry; space: string; reload: () => void }) {
  const t = useT();
  const current = useValue(lang);
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(e.name);
  const [error, setError] = useState<string | undefined>();
  const rename = async (event: Event) => {
    event.preventDefault();
    try {
      await renameEntry(e.id, name);
      announce(t('documents.renamed', { name }));
      reload();
    } catch (err) {
      setError(errorMessage(err, current));
    }
  };
  const remove = async () => {
    if (!confirm(t('documents.confirmDelete', { name: e.name }))) return;
    try {
      await deleteEntry(e.id);
      announce(t('documents.deleted', { name: e.name }));
      reload();
    } catch (err) {
      setError(errorMessage(err, current));
    }
  };
  return (
    <tr data-testid="doc-entry">
      <th scope="row">
        {e.kind === 'folder' ? (
          <a href={href(space, e.id)}>{e.name}</a>
        ) : (
          <a href={e.downloadUrl} download={e.name}>
            {e.name}
          </a>
        )}
        {e.ownerName && <span class="slot-meta"> · {e.ownerName}</span>}
        {renaming && (
          <form class="docs-rename" onSubmit={(ev) => void rename(ev)}>
            <label for={`rename-${e.id}`}>{t('documents.newName')}</label>
            <input id={`rename-${e.id}`} value={name} maxLength={120} required onInput={(ev) => setName((ev.currentTarget as HTMLInputElement).value)} />
            <button type="submit">{t('documents.rename')}</button>
          </form>
        )}
        <ErrorLine error={error} />
      </th>
      <td>{typeLabel(e, t)}</td>
      <td class="num">{e.sizeBytes !== undefined ? formatBytes(e.sizeBytes, current) : ''}</td>
      <td>{formatDateTime(e.updatedAt, current)}</td>
      <td>
        {e.canChange && (
          <>
            <button type="button" class="button-secondary" aria-expanded={renaming} onClick={() => setRenaming((r) => !r)} aria-label={t('documents.renameLabel', { name: e.name })}>
              {t('documents.rename')}
            </button>{' '}
            <button type="button" class="button-secondary" onClick={() => void remove()} aria-label={t('documents.deleteLabel', { name: e.name })}>
              {t('documents.delete')}
            </button>
          </>
        )}
      </td>
    </tr>
  );
}

function NewFolder({ space, folder, shared, onDone }: { space: string; folder: string | undefined; shared: boolean; onDone: () => void }) {
  const t = useT();
  const current = useValue(lang);
  const [name, setName] = useState('');
  const [dropBox, setDropBox] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      await createFolder(space, folder, name, dropBox);
      announce(t('documents.folderCreated', { name }));
      onDone();
    } catch (err) {
      setError(errorMessage(err, current));
    }
  };
  return (
    <form class="docs-form" onSubmit={(e) => void submit(e)} aria-labelledby="new-folder-title">
      <h3 id="new-folder-title">{t('documents.newFolder')}</h3>
      <label for="new-folder-name">{t('documents.folderName')}</label>
      <input id="new-folder-name" value={name} maxLength={120} required onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
      {shared && !folder && (
        <div class="choice">
          <input id="new-folder-drop" type="checkbox" checked={dropBox} onChange={(e) => setDropBox((e.currentTarget as HTMLInputElement).checked)} />
          <label for="new-folder-drop">{t('documents.makeDropBox')}</label>
        </div>
      )}
      <ErrorLine error={error} />
      <button type="submit">{t('documents.create')}</button>
    </form>
  );
}

/** Upload with a progress bar; on a cut it waits, asks the server where it stands, and goes on. */
function UploadForm({ space, folder, onDone }: { space: string; folder: string | undefined; onDone: () => void }) {
  const t = useT();
  const current = useValue(lang);
  const [file, setFile] = useState<File | undefined>();
  const [sent, setSent] = useState<number | undefined>();
  const [status, setStatus] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const input = useRef<HTMLInputElement>(null);
  const start = async (event: Event) => {
    event.preventDefault();
    if (!file) {
      setError(t('documents.chooseFile'));
      return;
    }
    setError(undefined);
    setSent(0);
    setStatus(t('documents.uploading', { name: file.name }));
    const key = resumeKey(space, folder, file);
    try {
      await runResumableUpload(file, uploadTransport(space, folder, file), {
        resumeUrl: localStorage.getItem(key) ?? undefined,
        onSession: (url) => localStorage.setItem(key, url),
        onProgress: (n) => setSent(n),
        onRetry: (_n, ms) => setStatus(t('documents.cut', { seconds: Math.ceil(ms / 1000) })),
      });
      localStorage.removeItem(key);
      setSent(undefined);
      setStatus(t('documents.uploaded', { name: file.name }));
      announce(t('documents.uploaded', { name: file.name }));
      setFile(undefined);
      if (input.current) input.current.value = '';
      onDone();
    } catch (err) {
      setSent(undefined);
      setStatus(undefined);
      const reason = err instanceof UploadFailure ? err.reason : err;
      const network = err instanceof UploadFailure && err.kind === 'network';
      // A refusal (quota, name taken) ends this attempt; a cut that lasted keeps the session for "Reprendre".
      if (!network) localStorage.removeItem(key);
      setError(network ? t('documents.stillCut') : errorMessage(reason instanceof ApiError ? reason : err, current));
    }
  };
  const percent = file && sent !== undefined ? (file.size === 0 ? 100 : Math.floor((sent / file.size) * 100)) : undefined;
  return (
    <form class="docs-form" onSubmit={(e) => void start(e)} aria-labelledby="upload-title" noValidate>
      <h3 id="upload-title">{t('documents.upload')}</h3>
      <label for="upload-file">{t('documents.file')}</label>
      <p id="upload-hint" class="hint">
        {t('documents.uploadHint')}
      </p>
      <input ref={input} id="upload-file" type="file" aria-describedby="upload-hint" onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0])} />
      {percent !== undefined && file && (
        <ProgressLine id="upload-progress" label={t('documents.progress', { sent: formatBytes(sent ?? 0, current), total: formatBytes(file.size, current) })} percent={percent} />
      )}
      <p role="status">{status}</p>
      <ErrorLine error={error} />
      <button type="submit" disabled={sent !== undefined}>
        {error ? t('documents.resume') : t('documents.send')}
      </button>
    </form>
  );
}

/** What the person deleted: restore one item, or empty it now (otherwise it empties itself after 30 days). */
function Trash({ reload }: { reload: () => void }) {
  const t = useT();
  const current = useValue(lang);
  const [open, setOpen] = useState(false);
  const [items, setItems] = useState<Awaited<ReturnType<typeof trash>>['data']['entries'] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const load = () => trash().then((r) => setItems(r.data.entries), (err: unknown) => setError(errorMessage(err, current)));
  const act = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      announce(done);
      reload();
    } catch (err) {
      setError(errorMessage(err, current));
    }
  };
  return (
    <details
      class="card"
      open={open}
      onToggle={(e) => {
        const nowOpen = (e.currentTarget as HTMLDetailsElement).open;
        setOpen(nowOpen);
        if (nowOpen && !items) void load();
      }}
    >
      <summary>{t('documents.trash')}</summary>
      <p class="hint">{t('documents.trashHint')}</p>
      <ErrorLine error={error} />
      {items && items.length === 0 && <EmptyState>{t('documents.trashEmpty')}</EmptyState>}
      {items && items.length > 0 && (
        <>
          <ul class="plain-list">
            {items.map((e) => (
              <li key={e.id}>
                {e.name} <span class="slot-meta">· {t('documents.purgeAt', { when: formatDateTime(e.purgeAt, current) })}</span>{' '}
                <button type="button" class="button-secondary" aria-label={t('documents.restoreLabel', { name: e.name })} onClick={() => void act(() => restoreEntry(e.id), t('documents.restored', { name: e.name }))}>
                  {t('documents.restore')}
                </button>
              </li>
            ))}
          </ul>
          <button type="button" class="button-secondary" onClick={() => confirm(t('documents.confirmEmpty')) && void act(emptyTrash, t('documents.emptied'))}>
            {t('documents.emptyTrash')}
          </button>
        </>
      )}
    </details>
  );
}
