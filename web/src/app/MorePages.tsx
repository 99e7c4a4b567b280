import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { errorMessage } from './errors.js';
import { lang } from './state.js';
import { useValue } from './store.js';

/**
 * A paginated list: the first page as loaded, then the next ones on demand with the cursor the
 * server gave (never everything at once on a weak link). A failed page says why and can be retried.
 */
export function MorePages<T>({ first, nextCursor, loadPage, label, children }: {
  first: T[];
  nextCursor: string | null;
  loadPage: (cursor: string) => Promise<{ items: T[]; nextCursor: string | null }>;
  label: string;
  children: (items: T[]) => ComponentChildren;
}) {
  const current = useValue(lang);
  const [more, setMore] = useState<T[]>([]);
  const [next, setNext] = useState(nextCursor);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const loadMore = async () => {
    if (!next) return;
    setBusy(true);
    try {
      const page = await loadPage(next);
      setMore((list) => [...list, ...page.items]);
      setNext(page.nextCursor);
      setError(undefined);
    } catch (err) {
      setError(errorMessage(err, current));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      {children([...first, ...more])}
      {next && (
        <button type="button" class="button-secondary" disabled={busy} onClick={() => void loadMore()}>
          {label}
        </button>
      )}
      {error && <p role="alert">{error}</p>}
    </>
  );
}
