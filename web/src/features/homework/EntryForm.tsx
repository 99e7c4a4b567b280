import { useRef, useState } from 'preact/hooks';
import type { Attachment, HomeworkEntry } from '../../api/types.js';
import { errorMessage } from '../../app/errors.js';
import { announce, lang, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import type { MessageKey } from '../../i18n/index.js';
import {
  applyMark, createBody, emptyFields, fieldsOf, LIMITS, updateBody, validateEntry, type EntryFields, type FieldErrors, type Kind, type Mark,
} from './entry-form.js';
import { createEntry, deleteAttachment, publishEntry, updateEntry, upload, type Audience } from './homework.api.js';
import { formatBytes, parisToday } from './homework.state.js';
import { SelectedFiles } from './shared.js';

/**
 * A new entry (séance or travail à faire) or an existing one: text with a few marks, links,
 * several attachments with progress, deadline and estimated time for work, publication.
 * Attachments are sent before the entry is published, so nobody sees it without them.
 */
export function EntryForm({ audiences, entry, onSaved }: { audiences: Audience[]; entry?: HomeworkEntry; onSaved: () => void }) {
  const t = useT();
  const current = useValue(lang);
  const [f, setF] = useState<EntryFields>(() => (entry ? fieldsOf(entry) : emptyFields('travail', parisToday(Date.now()))));
  const [audience, setAudience] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [kept, setKept] = useState<Attachment[]>(entry?.attachments ?? []);
  const [progress, setProgress] = useState<{ name: string; fraction: number } | undefined>();
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const set = <K extends keyof EntryFields>(key: K, value: EntryFields[K]) => setF((old) => ({ ...old, [key]: value }));
  const p = entry ? `ef-${entry.id}` : 'nw';
  const travail = f.kind === 'travail';

  const submit = async (event: Event) => {
    event.preventDefault();
    const found = validateEntry(f, files, kept.length, Date.now());
    const au = audiences.find((a) => a.value === (audience || audiences[0]?.value));
    if (!entry && !au) found.title ??= 'newWork.missing';
    setErrors(found);
    setFailure(undefined);
    if (Object.keys(found).length > 0) {
      requestAnimationFrame(() => (document.querySelector(`#${p}-form [aria-invalid="true"]`) as HTMLElement | null)?.focus());
      return;
    }
    setBusy(true);
    let saved: HomeworkEntry | undefined;
    try {
      if (entry) saved = (await updateEntry(entry.id, updateBody(f))).data.entry;
      else saved = (await createEntry({ ...createBody(f, au!), ...(files.length > 0 ? { publishAt: null } : {}) })).data.entry;
      for (const file of files) {
        const form = new FormData();
        form.append('file', file, file.name);
        setProgress({ name: file.name, fraction: 0 });
        await upload('POST', `/api/v1/homework/${encodeURIComponent(saved.id)}/attachments`, form, { onProgress: (fraction) => setProgress({ name: file.name, fraction }) });
      }
      setProgress(undefined);
      if (!entry && files.length > 0 && f.publish !== 'draft') await publishEntry(saved.id, f.publish === 'later' ? new Date(f.publishAt).toISOString() : undefined);
      announce(t(savedMessage(f, !!entry)));
      if (!entry) {
        setF(emptyFields(f.kind, f.date));
        setFiles([]);
        if (fileInput.current) fileInput.current.value = '';
      }
      onSaved();
    } catch (err) {
      setProgress(undefined);
      setFailure(saved && !entry ? `${t('entryForm.savedButFiles')} ${errorMessage(err, current)}` : errorMessage(err, current));
    } finally {
      setBusy(false);
    }
  };

  const removeKept = async (a: Attachment) => {
    try {
      await deleteAttachment(entry!.id, a.id);
      setKept((list) => list.filter((x) => x.id !== a.id));
      announce(t('entryForm.attachmentRemoved', { name: a.fileName }));
    } catch (err) {
      setFailure(errorMessage(err, current));
    }
  };

  const fieldError = (key: keyof FieldErrors) =>
    errors[key] ? (
      <p id={`${p}-${key}-error`} class="field-error">
        {t(errors[key] as MessageKey, { max: key === 'links' ? LIMITS.links : LIMITS.attachments, size: formatBytes(LIMITS.attachmentBytes, current) })}
      </p>
    ) : null;
  const invalid = (key: keyof FieldErrors) => ({ 'aria-invalid': errors[key] ? true : undefined, 'aria-describedby': errors[key] ? `${p}-${key}-error` : undefined });

  return (
    <form id={`${p}-form`} onSubmit={(e) => void submit(e)} noValidate data-testid="entry-form">
      {entry ? (
        <p class="notice">{t(entry.kind === 'seance' ? 'homework.kind.seance' : 'homework.kind.travail')} · {entry.audience.name}</p>
      ) : (
        <>
          <fieldset class="choice">
            <legend>{t('entryForm.kind')}</legend>
            {(['travail', 'seance'] as Kind[]).map((k) => (
              <div key={k}>
                <input type="radio" id={`${p}-kind-${k}`} name={`${p}-kind`} value={k} checked={f.kind === k} onChange={() => set('kind', k)} />{' '}
                <label for={`${p}-kind-${k}`}>{t(k === 'seance' ? 'entryForm.kindSeance' : 'homework.kind.travail')}</label>
              </div>
            ))}
          </fieldset>
          <label for={`${p}-audience`}>{t('newWork.audience')}</label>
          <select id={`${p}-audience`} value={audience || audiences[0]?.value} onChange={(e) => setAudience((e.currentTarget as HTMLSelectElement).value)}>
            {audiences.map((a) => (
              <option key={a.value} value={a.value}>
                {a.label}
              </option>
            ))}
          </select>
        </>
      )}
      <label for={`${p}-title`}>{t('newWork.titleLabel')}</label>
      <input id={`${p}-title`} value={f.title} maxLength={LIMITS.titleChars} required {...invalid('title')} onInput={(e) => set('title', (e.currentTarget as HTMLInputElement).value)} />
      {fieldError('title')}
      <label for={`${p}-date`}>{t(travail ? 'newWork.date' : 'entryForm.lessonDate')}</label>
      <input id={`${p}-date`} type="date" value={f.date} required {...invalid('date')} onInput={(e) => set('date', (e.currentTarget as HTMLInputElement).value)} />
      {fieldError('date')}
      <RichTextField id={`${p}-body`} label={t(travail ? 'newWork.body' : 'entryForm.lessonBody')} value={f.text} onChange={(v) => set('text', v)} invalid={invalid('text')} />
      {fieldError('text')}
      {travail && (
        <>
          <label for={`${p}-time`}>{t('newWork.time')}</label>
          <input id={`${p}-time`} type="time" value={f.dueTime} onInput={(e) => set('dueTime', (e.currentTarget as HTMLInputElement).value)} />
          <label for={`${p}-minutes`}>{t('entryForm.minutes')}</label>
          <input
            id={`${p}-minutes`}
            type="number"
            inputMode="numeric"
            min={1}
            max={LIMITS.estimatedMinutesMax}
            value={f.estimatedMinutes}
            {...invalid('estimatedMinutes')}
            onInput={(e) => set('estimatedMinutes', (e.currentTarget as HTMLInputElement).value)}
          />
          {fieldError('estimatedMinutes')}
          <div>
            <input id={`${p}-online`} type="checkbox" checked={f.onlineHandin} onChange={(e) => set('onlineHandin', (e.currentTarget as HTMLInputElement).checked)} />{' '}
            <label for={`${p}-online`}>{t('work.onlineHandin')}</label>
          </div>
        </>
      )}
      <fieldset class="links-field">
        <legend>{t('entryForm.links')}</legend>
        {f.links.map((l, i) => (
          <div key={i} class="link-row">
            <label for={`${p}-link-url-${i}`}>{t('entryForm.linkUrl', { n: i + 1 })}</label>
            <input
              id={`${p}-link-url-${i}`}
              type="url"
              inputMode="url"
              value={l.url}
              maxLength={LIMITS.linkUrlChars}
              {...invalid('links')}
              onInput={(e) => set('links', f.links.map((x, j) => (j === i ? { ...x, url: (e.currentTarget as HTMLInputElement).value } : x)))}
            />
            <label for={`${p}-link-label-${i}`}>{t('entryForm.linkLabel', { n: i + 1 })}</label>
            <input
              id={`${p}-link-label-${i}`}
              value={l.label}
              maxLength={LIMITS.linkLabelChars}
              onInput={(e) => set('links', f.links.map((x, j) => (j === i ? { ...x, label: (e.currentTarget as HTMLInputElement).value } : x)))}
            />
            <button type="button" class="button-secondary" onClick={() => set('links', f.links.filter((_, j) => j !== i))}>
              {t('entryForm.linkRemove', { n: i + 1 })}
            </button>
          </div>
        ))}
        {fieldError('links')}
        {f.links.length < LIMITS.links && (
          <button type="button" class="button-secondary" onClick={() => set('links', [...f.links, { url: '', label: '' }])}>
            {t('entryForm.linkAdd')}
          </button>
        )}
      </fieldset>
      <fieldset>
        <legend>{t('homework.attachments')}</legend>
        {kept.length > 0 && (
          <ul class="files">
            {kept.map((a) => (
              <li key={a.id}>
                {a.fileName} <span class="slot-meta">({formatBytes(a.sizeBytes, current)})</span>{' '}
                <button type="button" class="button-secondary" onClick={() => void removeKept(a)}>
                  {t('entryForm.attachmentRemove', { name: a.fileName })}
                </button>
              </li>
            ))}
          </ul>
        )}
        <label for={`${p}-files`}>{t('entryForm.addFiles')}</label>
        <p id={`${p}-files-hint`} class="hint">
          {t('entryForm.filesHint', { max: LIMITS.attachments, size: formatBytes(LIMITS.attachmentBytes, current) })}
        </p>
        <input
          ref={fileInput}
          id={`${p}-files`}
          type="file"
          multiple
          aria-describedby={`${p}-files-hint${errors.attachments ? ` ${p}-attachments-error` : ''}`}
          aria-invalid={errors.attachments ? true : undefined}
          onChange={(e) => setFiles([...((e.currentTarget as HTMLInputElement).files ?? [])])}
        />
        {fieldError('attachments')}
        <SelectedFiles files={files} />
        {progress && (
          <p>
            <label for={`${p}-progress`}>{t('entryForm.uploading', { name: progress.name })}</label>{' '}
            <progress id={`${p}-progress`} max={100} value={Math.round(progress.fraction * 100)}>
              {Math.round(progress.fraction * 100)} %
            </progress>
          </p>
        )}
      </fieldset>
      {!entry && (
        <fieldset class="choice">
          <legend>{t('newWork.publish')}</legend>
          {(['now', 'later', 'draft'] as const).map((v) => (
            <div key={v}>
              <input type="radio" id={`${p}-${v}`} name={`${p}-publish`} value={v} checked={f.publish === v} onChange={() => set('publish', v)} />{' '}
              <label for={`${p}-${v}`}>{t(v === 'now' ? 'newWork.now' : v === 'later' ? 'newWork.later' : 'newWork.draft')}</label>
            </div>
          ))}
          {f.publish === 'later' && (
            <>
              <label for={`${p}-at`}>{t('newWork.at')}</label>
              <input id={`${p}-at`} type="datetime-local" value={f.publishAt} {...invalid('publishAt')} onInput={(e) => set('publishAt', (e.currentTarget as HTMLInputElement).value)} />
              {fieldError('publishAt')}
            </>
          )}
        </fieldset>
      )}
      {failure && (
        <p role="alert" class="alert">
          {failure}
        </p>
      )}
      {Object.keys(errors).length > 0 && (
        <p role="alert" class="alert">
          {t('entryForm.fixErrors')}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {t('newWork.submit')}
      </button>
    </form>
  );
}

function savedMessage(f: EntryFields, edited: boolean): MessageKey {
  if (edited) return 'entryForm.saved';
  if (f.publish === 'draft') return 'newWork.drafted';
  if (f.publish === 'later') return 'newWork.scheduled';
  return f.kind === 'seance' ? 'entryForm.seancePublished' : 'newWork.published';
}

const MARKS: { mark: Mark; key: MessageKey; shortcut?: string }[] = [
  { mark: 'bold', key: 'editor.bold', shortcut: 'b' },
  { mark: 'italic', key: 'editor.italic', shortcut: 'i' },
  { mark: 'list', key: 'editor.list' },
  { mark: 'link', key: 'editor.link' },
];

/**
 * The text of an entry: a textarea and four buttons that put marks around the selection
 * (Ctrl+B, Ctrl+I from the keyboard). What the marks mean is said under it; the server turns the
 * HTML made from them into its allow-listed HTML, which is what readers see.
 */
function RichTextField({ id, label, value, onChange, invalid }: { id: string; label: string; value: string; onChange: (v: string) => void; invalid: Record<string, unknown> }) {
  const t = useT();
  const area = useRef<HTMLTextAreaElement>(null);
  const apply = (mark: Mark) => {
    const el = area.current!;
    const next = applyMark(el.value, el.selectionStart, el.selectionEnd, mark);
    // At once, not after the render: what is typed next must replace the selection (the render keeps an equal value).
    el.value = next.value;
    el.focus();
    el.setSelectionRange(next.start, next.end);
    onChange(next.value);
  };
  return (
    <div class="rich-editor">
      <label for={id}>{label}</label>
      <div class="editor-buttons" role="group" aria-label={t('editor.toolbar')}>
        {MARKS.map((m) => (
          <button key={m.mark} type="button" class="button-secondary" aria-controls={id} onClick={() => apply(m.mark)}>
            {t(m.key)}
          </button>
        ))}
      </div>
      <textarea
        ref={area}
        id={id}
        rows={6}
        value={value}
        maxLength={LIMITS.bodyInputChars}
        {...invalid}
        aria-describedby={[`${id}-hint`, invalid['aria-describedby']].filter(Boolean).join(' ')}
        onInput={(e) => onChange((e.currentTarget as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          const m = MARKS.find((x) => x.shortcut && (e.ctrlKey || e.metaKey) && e.key.toLowerCase() === x.shortcut);
          if (m) {
            e.preventDefault();
            apply(m.mark);
          }
        }}
      />
      <p id={`${id}-hint`} class="hint">
        {t('editor.hint')}
      </p>
    </div>
  );
}
