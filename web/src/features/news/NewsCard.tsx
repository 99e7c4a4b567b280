import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api/client.js';
import type { NewsItem } from '../../api/types.js';
import { EmptyState } from '../../app/EmptyState.js';
import { ROUTES } from '../../app/router.js';
import { useT } from '../../app/state.js';
import { newsHref, readState } from './news.state.js';

/**
 * The news on "Aujourd'hui", for every profile. The list comes with the day (cached, shared by a
 * class); whether each one is "à lire" or "lu" is personal, asked separately (`/me/today/mine`) and
 * only when one of them asks for acknowledgement: the day shows at once, the state follows.
 */
export function NewsCard({ items }: { items: NewsItem[] }) {
  const t = useT();
  const [acknowledged, setAcknowledged] = useState<ReadonlySet<string> | undefined>();
  const needsState = items.some((n) => n.requiresAck);
  useEffect(() => {
    if (!needsState) return;
    api<{ newsAcknowledged?: string[] }>('GET', '/api/v1/me/today/mine').then(
      ({ data }) => setAcknowledged(new Set(data.newsAcknowledged ?? [])),
      () => undefined,
    );
  }, [needsState]);
  return (
    <section class="card" aria-labelledby="today-news" data-testid="today-news">
      <h2 id="today-news">{t('news.title')}</h2>
      {items.length === 0 ? (
        <EmptyState>{t('news.none')}</EmptyState>
      ) : (
        <ul class="work-due">
          {items.map((n) => {
            const state = readState(n, acknowledged);
            return (
              <li key={n.id} class="work-item" data-testid="today-news-item">
                <p class="work-when">
                  {n.audience.name}
                  {n.pinned && ` · ${t('news.pinned')}`}
                </p>
                <p class="work-title">
                  <a href={newsHref(n.id)}>{n.headline}</a>
                  {state && <strong class={`badge ${state === 'toRead' ? 'badge-changed' : 'badge-current'}`}>{t(state === 'toRead' ? 'news.toRead' : 'news.read')}</strong>}
                </p>
                {n.excerpt && <p class="slot-meta">{n.excerpt}</p>}
              </li>
            );
          })}
        </ul>
      )}
      <p>
        <a href={ROUTES.news}>{t('news.all')}</a>
      </p>
    </section>
  );
}
