import type { ComponentChildren } from 'preact';
import type { ApiOk } from '../api/client.js';
import { errorMessage } from './errors.js';
import { lang, useT } from './state.js';
import { useValue } from './store.js';
import { useRetryingLoad } from './use-retrying-load.js';

/** A read shown once loaded: "chargement…" meanwhile (retried with backoff), a refusal in words with a retry button. */
export function Loading<T>({ load, children }: { load: () => Promise<ApiOk<T>>; children: (data: T, reload: () => void) => ComponentChildren }) {
  const t = useT();
  const current = useValue(lang);
  const { state, retryNow } = useRetryingLoad(load);
  if (state.phase === 'ready') return <>{children(state.data, retryNow)}</>;
  if (state.phase === 'failed')
    return (
      <div class="alert" role="alert">
        <p>{errorMessage(state.error, current)}</p>
        <button type="button" class="button-secondary" onClick={retryNow}>
          {t('net.retryNow')}
        </button>
      </div>
    );
  return (
    <p class="notice" role="status">
      {t('app.loading')}
    </p>
  );
}
