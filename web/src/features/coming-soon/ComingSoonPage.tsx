import { EmptyState, PageTitle } from '../../app/EmptyState.js';
import { useT } from '../../app/state.js';
import type { MessageKey } from '../../i18n/index.js';

/** The features of later issues, already in the navigation: each says what it will hold. */
export const COMING_SOON = {
  homework: { title: 'nav.homework', body: 'placeholder.homework' },
  documents: { title: 'nav.documents', body: 'placeholder.documents' },
} as const satisfies Record<string, { title: MessageKey; body: MessageKey }>;

export function ComingSoonPage({ feature }: { feature: keyof typeof COMING_SOON }) {
  const t = useT();
  const { title, body } = COMING_SOON[feature];
  return (
    <section class="card" aria-labelledby="page-title">
      <PageTitle>{t(title)}</PageTitle>
      <p class="badge badge-soon">{t('placeholder.soon')}</p>
      <EmptyState>{t(body)}</EmptyState>
    </section>
  );
}
