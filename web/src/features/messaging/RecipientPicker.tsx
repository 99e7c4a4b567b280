import { useEffect, useRef, useState } from 'preact/hooks';
import type { DirectoryEntry } from '../../api/types.js';
import { errorMessage } from '../../app/errors.js';
import { lang, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { hasMessage } from '../../i18n/index.js';
import { searchDirectory } from './messaging.api.js';
import { addPick, MAX_CHOSEN_RECIPIENTS, moveActive, optionsOf, pickKey, removePick, type Choice } from './messaging.state.js';

/** Typing pauses this long before the directory is asked (one request per pause, not per key). */
const SEARCH_DEBOUNCE_MS = 250;

/** "Parents de la classe 6e A", "M. Martin (enseignant)": what an option says. */
export function useRecipientLabel(): (e: Pick<DirectoryEntry, 'kind' | 'name' | 'audience' | 'profile'>) => string {
  const t = useT();
  return (e) => {
    if (e.kind === 'school') return t('mail.who.school', { name: e.name });
    if (e.kind === 'class' || e.kind === 'group') return t(e.audience === 'pupils' ? 'mail.who.pupils' : 'mail.who.parents', { name: e.name });
    const key = `mail.profile.${e.profile ?? ''}`;
    return hasMessage(key) ? `${e.name} (${t(key)})` : e.name;
  };
}

/**
 * A recipient field: the chosen recipients (each removable) and a combobox that searches the
 * directory as one types (ARIA 1.2 combobox + listbox: arrows, Home/End, Enter, Escape).
 */
export function RecipientPicker({ id, label, chosen, other, onChange }: { id: string; label: string; chosen: Choice[]; other: Choice[]; onChange: (next: Choice[]) => void }) {
  const t = useT();
  const current = useValue(lang);
  const labelOf = useRecipientLabel();
  const [query, setQuery] = useState('');
  const [options, setOptions] = useState<DirectoryEntry[]>([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [status, setStatus] = useState('');
  const [error, setError] = useState<string | undefined>();
  const input = useRef<HTMLInputElement>(null);
  const abort = useRef<AbortController | undefined>(undefined);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const search = (q: string) => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      abort.current?.abort();
      const controller = new AbortController();
      abort.current = controller;
      setStatus(t('app.loading'));
      searchDirectory(q, controller.signal).then(
        ({ data }) => {
          const found = optionsOf(data, [...chosen, ...other]);
          setOptions(found);
          setActive(-1);
          setError(undefined);
          setStatus(found.length === 0 ? t('mail.picker.none') : t('mail.picker.count', { count: found.length }));
        },
        (err: unknown) => {
          if (err instanceof DOMException && err.name === 'AbortError') return;
          setError(errorMessage(err, current));
          setStatus('');
        },
      );
    }, SEARCH_DEBOUNCE_MS);
  };
  useEffect(() => () => {
    clearTimeout(timer.current);
    abort.current?.abort();
  }, []);

  const choose = (e: DirectoryEntry) => {
    const pick: Choice = { kind: e.kind, id: e.id, name: e.name, ...(e.audience ? { audience: e.audience } : {}) };
    const next = addPick(chosen, other, pick);
    onChange(next);
    setStatus(next.length === chosen.length ? t('mail.picker.full', { max: MAX_CHOSEN_RECIPIENTS }) : t('mail.picker.added', { name: labelOf(e) }));
    setOptions((o) => o.filter((x) => pickKey(x) !== pickKey(pick)));
    setQuery('');
    setOpen(false);
    setActive(-1);
    input.current?.focus();
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp' || ((e.key === 'Home' || e.key === 'End') && open)) {
      e.preventDefault();
      if (!open) {
        setOpen(true);
        if (options.length === 0) search(query);
      }
      setActive(moveActive(active, options.length, e.key));
    } else if (e.key === 'Enter' && open && active >= 0 && options[active]) {
      e.preventDefault();
      choose(options[active]);
    } else if (e.key === 'Escape' && open) {
      e.preventDefault();
      setOpen(false);
      setActive(-1);
    }
  };

  const listId = `${id}-list`;
  const optionId = (i: number) => `${id}-opt-${i}`;
  return (
    <div class="picker">
      <label for={id}>{label}</label>
      {chosen.length > 0 && (
        <ul class="chips" aria-label={t('mail.picker.chosen', { field: label })}>
          {chosen.map((c) => (
            <li key={pickKey(c)} class="chip">
              <span>{labelOf(c)}</span>
              <button type="button" class="chip-remove" aria-label={t('mail.picker.remove', { name: labelOf(c) })} onClick={() => onChange(removePick(chosen, pickKey(c)))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <input
        ref={input}
        id={id}
        type="text"
        role="combobox"
        autocomplete="off"
        aria-autocomplete="list"
        aria-expanded={open}
        aria-controls={listId}
        aria-describedby={`${id}-hint`}
        aria-activedescendant={open && active >= 0 ? optionId(active) : undefined}
        value={query}
        maxLength={100}
        onInput={(e) => {
          const q = (e.currentTarget as HTMLInputElement).value;
          setQuery(q);
          setOpen(true);
          search(q);
        }}
        onFocus={() => {
          if (options.length === 0) search(query);
        }}
        onKeyDown={onKeyDown}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
      />
      <p id={`${id}-hint`} class="hint">
        {t('mail.picker.hint')}
      </p>
      <ul id={listId} role="listbox" aria-label={t('mail.picker.suggestions', { field: label })} class="listbox" hidden={!open || options.length === 0}>
        {options.map((o, i) => (
          <li
            key={pickKey(o)}
            id={optionId(i)}
            role="option"
            aria-selected={i === active}
            class={i === active ? 'option option-active' : 'option'}
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => choose(o)}
          >
            {labelOf(o)}
          </li>
        ))}
      </ul>
      <p class="visually-hidden" role="status" aria-live="polite">
        {open ? status : ''}
      </p>
      {error && (
        <p role="alert" class="field-error">
          {error}
        </p>
      )}
    </div>
  );
}
