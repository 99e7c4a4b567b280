import { useEffect, useRef, useState } from 'preact/hooks';
import type { TargetedEvent } from 'preact';
import { nextDelayMs } from '../../api/backoff.js';
import { ApiError } from '../../api/client.js';
import { PageTitle } from '../../app/EmptyState.js';
import { errorMessage } from '../../app/errors.js';
import { navigate, ROUTES } from '../../app/router.js';
import { lang, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { useSecondsUntil } from '../../app/use-retrying-load.js';
import { Checkbox, Field, FormAlert } from './forms.js';
import { login } from './session.js';

/** Automatic retries of a login refused for overload before the person is asked to try again. */
const MAX_AUTO_RETRIES = 6;

export function LoginPage() {
  const t = useT();
  const current = useValue(lang);
  const [identifier, setIdentifier] = useState('');
  const [password, setPassword] = useState('');
  const [remember, setRemember] = useState(false);
  const [missing, setMissing] = useState<{ login?: boolean; password?: boolean }>({});
  const [error, setError] = useState<string | undefined>();
  const [submitting, setSubmitting] = useState(false);
  const [retryAtMs, setRetryAtMs] = useState<number | undefined>();
  const retries = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const seconds = useSecondsUntil(retryAtMs);

  useEffect(() => () => clearTimeout(timer.current), []);
  useEffect(() => {
    if (error) document.getElementById('form-alert')?.focus();
  }, [error]);

  const attempt = async () => {
    setSubmitting(true);
    try {
      await login({ login: identifier.trim(), password, remember });
      navigate(ROUTES.today, { replace: true });
    } catch (err) {
      // Overloaded (the password queue is full): retry by itself, spread out, and say so.
      if (err instanceof ApiError && err.status === 503 && retries.current < MAX_AUTO_RETRIES) {
        const at = Date.now() + nextDelayMs(retries.current++, err.retryAfterSeconds, Math.random);
        setRetryAtMs(at);
        setError(undefined);
        timer.current = setTimeout(() => void attempt(), at - Date.now());
        return;
      }
      setRetryAtMs(undefined);
      setError(errorMessage(err, current));
    } finally {
      setSubmitting(false);
    }
  };

  const onSubmit = (e: TargetedEvent<HTMLFormElement>) => {
    e.preventDefault();
    const empty = { login: identifier.trim() === '', password: password === '' };
    setMissing(empty);
    if (empty.login || empty.password) {
      document.getElementById(empty.login ? 'login' : 'password')?.focus();
      return;
    }
    retries.current = 0;
    setError(undefined);
    void attempt();
  };

  const cancelRetry = () => {
    clearTimeout(timer.current);
    setRetryAtMs(undefined);
  };

  return (
    <section class="card narrow" aria-labelledby="page-title">
      <PageTitle>{t('login.title')}</PageTitle>
      <p>{t('login.intro')}</p>
      {error && <FormAlert title={t('login.errorTitle')}>{error}</FormAlert>}
      {retryAtMs !== undefined && (
        <div class="notice notice-busy" role="status">
          <p>{t('error.auth.busy', { seconds })}</p>
          <button type="button" class="button-secondary" onClick={cancelRetry}>
            {t('login.cancelRetry')}
          </button>
        </div>
      )}
      <form onSubmit={onSubmit} noValidate>
        <Field id="login" label={t('login.login')} hint={t('login.loginHint')} value={identifier} onInput={setIdentifier} autocomplete="username" error={missing.login ? t('form.required') : undefined} />
        <Field id="password" label={t('login.password')} type="password" value={password} onInput={setPassword} autocomplete="current-password" error={missing.password ? t('form.required') : undefined} />
        <Checkbox id="remember" label={t('login.remember')} hint={t('login.rememberHint')} checked={remember} onChange={setRemember} />
        <button type="submit" disabled={submitting || retryAtMs !== undefined}>
          {submitting ? t('login.submitting') : t('login.submit')}
        </button>
      </form>
      <p>
        <a href={ROUTES.activate}>{t('login.firstTime')}</a>
      </p>
    </section>
  );
}
