import { useEffect, useState } from 'preact/hooks';
import type { TargetedEvent } from 'preact';
import { PageTitle } from '../../app/EmptyState.js';
import { errorMessage } from '../../app/errors.js';
import { navigate, ROUTES } from '../../app/router.js';
import { lang, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { Checkbox, Field, FormAlert } from './forms.js';
import { GuardNotice, useGuardedSubmit } from './guarded-submit.js';
import { login } from './session.js';

export function LoginPage() {
  const t = useT();
  const current = useValue(lang);
  const [identifier, setIdentifier] = useState('');
  const [password, setPassword] = useState('');
  const [remember, setRemember] = useState(false);
  const [missing, setMissing] = useState<{ login?: boolean; password?: boolean }>({});
  // Waiting room, proof of work and overload retries are handled on the way (guarded-submit.tsx).
  const guard = useGuardedSubmit(
    (headers) => login({ login: identifier.trim(), password, remember }, headers),
    () => navigate(ROUTES.today, { replace: true }),
  );
  const error = guard.error === undefined ? undefined : errorMessage(guard.error, current);

  useEffect(() => {
    if (error) document.getElementById('form-alert')?.focus();
  }, [error]);

  const onSubmit = (e: TargetedEvent<HTMLFormElement>) => {
    e.preventDefault();
    const empty = { login: identifier.trim() === '', password: password === '' };
    setMissing(empty);
    if (empty.login || empty.password) {
      document.getElementById(empty.login ? 'login' : 'password')?.focus();
      return;
    }
    guard.start();
  };

  return (
    <section class="card narrow" aria-labelledby="page-title">
      <PageTitle>{t('login.title')}</PageTitle>
      <p>{t('login.intro')}</p>
      {error && <FormAlert title={t('login.errorTitle')}>{error}</FormAlert>}
      <GuardNotice guard={guard} />
      <form onSubmit={onSubmit} noValidate>
        <Field id="login" label={t('login.login')} hint={t('login.loginHint')} value={identifier} onInput={setIdentifier} autocomplete="username" error={missing.login ? t('form.required') : undefined} />
        <Field id="password" label={t('login.password')} type="password" value={password} onInput={setPassword} autocomplete="current-password" error={missing.password ? t('form.required') : undefined} />
        <Checkbox id="remember" label={t('login.remember')} hint={t('login.rememberHint')} checked={remember} onChange={setRemember} />
        <button type="submit" disabled={guard.busy}>
          {guard.submitting ? t('login.submitting') : t('login.submit')}
        </button>
      </form>
      <p>
        <a href={ROUTES.activate}>{t('login.firstTime')}</a>
      </p>
    </section>
  );
}
