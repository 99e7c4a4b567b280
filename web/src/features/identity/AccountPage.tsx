import { useEffect, useState } from 'preact/hooks';
import type { TargetedEvent } from 'preact';
import { ApiError, api } from '../../api/client.js';
import type { SessionInfo } from '../../api/types.js';
import { EmptyState, PageTitle } from '../../app/EmptyState.js';
import { errorMessage, MIN_PASSWORD_LENGTH } from '../../app/errors.js';
import { navigate, ROUTES } from '../../app/router.js';
import { announce, lang, me, outboxEntries, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { formatDateTime, LANGS, loadCatalogue, type Lang } from '../../i18n/index.js';
import { discardEntry } from '../../offline/outbox-runner.js';
import type { OutboxEntry } from '../../offline/outbox.js';
import { StatusAdmin } from '../status/StatusAdmin.js';
import { Field, FormAlert } from './forms.js';
import { chooseLang, logout } from './session.js';

/** Mon compte: language (works offline, through the outbox), waiting changes, password, devices. */
export default function AccountPage() {
  const t = useT();
  const person = useValue(me);
  if (!person) return null;
  return (
    <div aria-labelledby="page-title">
      <PageTitle>{t('account.title')}</PageTitle>
      <p>
        {person.firstName} {person.lastName} — {t('account.identity', { login: person.login })}
      </p>
      <div class="grid">
        {person.profile === 'admin_plateforme' && <StatusAdmin />}
        <LanguageChoice />
        <WaitingChanges />
        <PasswordChange />
        <Sessions />
      </div>
    </div>
  );
}

function LanguageChoice() {
  const t = useT();
  const current = useValue(lang);
  // The other catalogues are lazy chunks: fetched while the person reads this card, so a choice applies at once.
  useEffect(() => {
    for (const l of LANGS) void loadCatalogue(l).catch(() => undefined);
  }, []);
  return (
    <section class="card" aria-labelledby="account-language">
      <h2 id="account-language">{t('account.language')}</h2>
      <fieldset>
        <legend>{t('account.languageHint')}</legend>
        {LANGS.map((l: Lang) => (
          <div class="field field-checkbox" key={l}>
            <input type="radio" id={`lang-${l}`} name="lang" value={l} checked={current === l} onChange={() => void chooseLang(l)} lang={l} />
            <label for={`lang-${l}`} lang={l}>
              {t(`lang.${l}`)}
            </label>
          </div>
        ))}
      </fieldset>
    </section>
  );
}

function describeEntry(entry: OutboxEntry, t: ReturnType<typeof useT>): string {
  if (entry.kind === 'news-ack') return t('outbox.newsAck', { title: entry.label ?? '' });
  if (entry.kind === 'homework-done') return t((entry.body as { done?: boolean }).done ? 'outbox.homeworkDone' : 'outbox.homeworkNotDone', { title: entry.label ?? '' });
  if (entry.kind === 'liaison-sign') return t('outbox.liaisonSign', { title: entry.label ?? '' });
  if (entry.kind === 'message-read') return t((entry.body as { read?: boolean }).read ? 'outbox.messageRead' : 'outbox.messageUnread', { title: entry.label ?? '' });
  if (entry.kind === 'message-delete') return t('outbox.messageDelete', { title: entry.label ?? '' });
  const target = (entry.body as { lang?: string }).lang === 'en' ? 'en' : 'fr';
  return t('outbox.preferences', { lang: t(`lang.${target}`) });
}

function WaitingChanges() {
  const t = useT();
  const entries = useValue(outboxEntries);
  return (
    <section class="card" aria-labelledby="attente" data-testid="outbox">
      <h2 id="attente">{t('account.outbox')}</h2>
      {entries.length === 0 ? (
        <EmptyState>{t('account.outboxEmpty')}</EmptyState>
      ) : (
        <>
          <p>{t('account.outboxIntro')}</p>
          <ul class="plain-list">
            {entries.map((e) => {
              const what = describeEntry(e, t);
              return (
                <li key={e.id} data-testid="outbox-entry">
                  <span>{what}</span> — <em>{e.state === 'failed' ? t('outbox.failed', { reason: e.error?.message ?? '' }) : t('outbox.pending')}</em>{' '}
                  {e.state === 'failed' && (
                    <button type="button" class="button-secondary" aria-label={t('outbox.discardLabel', { what })} onClick={() => void discardEntry(e.id)}>
                      {t('outbox.discard')}
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
        </>
      )}
    </section>
  );
}

function PasswordChange() {
  const t = useT();
  const current = useValue(lang);
  const [values, setValues] = useState({ current: '', next: '', confirm: '' });
  const [problem, setProblem] = useState<{ field?: 'next' | 'confirm'; message: string } | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [done, setDone] = useState(false);
  const set = (name: keyof typeof values) => (value: string) => setValues((v) => ({ ...v, [name]: value }));

  const onSubmit = async (e: TargetedEvent<HTMLFormElement>) => {
    e.preventDefault();
    setDone(false);
    setError(undefined);
    if ([...values.next].length < MIN_PASSWORD_LENGTH) return setProblem({ field: 'next', message: t('form.tooShort', { min: MIN_PASSWORD_LENGTH }) });
    if (values.next !== values.confirm) return setProblem({ field: 'confirm', message: t('form.mismatch') });
    setProblem(undefined);
    try {
      await api('PUT', '/api/v1/me/password', { body: { currentPassword: values.current, newPassword: values.next } });
      setValues({ current: '', next: '', confirm: '' });
      setDone(true);
      announce(t('account.passwordChanged'));
    } catch (err) {
      setError(err instanceof ApiError && err.kind === 'network' ? t('account.passwordOffline') : errorMessage(err, current));
    }
  };

  return (
    <section class="card" aria-labelledby="account-password">
      <h2 id="account-password">{t('account.password')}</h2>
      {error && <FormAlert title={t('account.password')}>{error}</FormAlert>}
      {done && <p class="success">{t('account.passwordChanged')}</p>}
      <form onSubmit={(e) => void onSubmit(e)} noValidate>
        <Field id="current-password" label={t('account.currentPassword')} type="password" value={values.current} onInput={set('current')} autocomplete="current-password" />
        <Field
          id="new-password" label={t('account.newPassword')} hint={t('activate.passwordHint', { min: MIN_PASSWORD_LENGTH })} type="password" value={values.next}
          onInput={set('next')} autocomplete="new-password" error={problem?.field === 'next' ? problem.message : undefined}
        />
        <Field id="confirm-password" label={t('account.confirmPassword')} type="password" value={values.confirm} onInput={set('confirm')} autocomplete="new-password" error={problem?.field === 'confirm' ? problem.message : undefined} />
        <button type="submit">{t('account.passwordSubmit')}</button>
      </form>
    </section>
  );
}

function Sessions() {
  const t = useT();
  const current = useValue(lang);
  const [sessions, setSessions] = useState<SessionInfo[] | undefined>();
  const [error, setError] = useState<string | undefined>();

  const load = async () => {
    try {
      setSessions((await api<{ sessions: SessionInfo[] }>('GET', '/api/v1/me/sessions')).data.sessions);
      setError(undefined);
    } catch (err) {
      setError(err instanceof ApiError && (err.kind === 'network' || err.transient) ? t('account.sessionsUnavailable') : errorMessage(err, current));
    }
  };
  useEffect(() => void load(), []);

  const revoke = async (s: SessionInfo) => {
    try {
      await api('DELETE', `/api/v1/me/sessions/${encodeURIComponent(s.id)}`);
      if (s.current) {
        await logout();
        navigate(ROUTES.login, { replace: true });
        return;
      }
      announce(t('account.sessionRevoked'));
      await load();
    } catch (err) {
      setError(errorMessage(err, current));
    }
  };

  return (
    <section class="card" aria-labelledby="account-sessions">
      <h2 id="account-sessions">{t('account.sessions')}</h2>
      <p>{t('account.sessionsIntro')}</p>
      {error && <p class="notice">{error}</p>}
      {sessions && (
        <ul class="plain-list sessions">
          {sessions.map((s) => (
            <li key={s.id}>
              <p>
                <strong>{s.device}</strong>
                {s.current && <span class="badge badge-current">{t('account.sessionCurrent')}</span>}
              </p>
              <p class="hint">
                {t('account.sessionLastSeen', { date: formatDateTime(s.lastSeenAt, current) })} · {t('account.sessionCreated', { date: formatDateTime(s.createdAt, current) })}
                {s.remember ? ` · ${t('account.sessionRemember')}` : ''}
              </p>
              <button type="button" class="button-secondary" aria-label={t('account.sessionRevokeLabel', { device: s.device })} onClick={() => void revoke(s)}>
                {t('account.sessionRevoke')}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
