import { useEffect, useState } from 'preact/hooks';
import type { TargetedEvent } from 'preact';
import { PageTitle } from '../../app/EmptyState.js';
import { errorMessage, MIN_PASSWORD_LENGTH } from '../../app/errors.js';
import { navigate, ROUTES } from '../../app/router.js';
import { lang, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { Checkbox, Field, FormAlert } from './forms.js';
import { GuardNotice, useGuardedSubmit } from './guarded-submit.js';
import { activate } from './session.js';

type FieldName = 'login' | 'code' | 'password' | 'confirm';

export function ActivatePage() {
  const t = useT();
  const current = useValue(lang);
  const [values, setValues] = useState<Record<FieldName, string>>({ login: '', code: '', password: '', confirm: '' });
  const [remember, setRemember] = useState(false);
  const [problems, setProblems] = useState<Partial<Record<FieldName, string>>>({});
  // Activation checks a password too: the same waiting room, challenge and overload retries as the login.
  const guard = useGuardedSubmit(
    (headers) => activate({ login: values.login.trim(), code: values.code.trim(), password: values.password, remember }, headers),
    () => navigate(ROUTES.today, { replace: true }),
  );
  const error = guard.error === undefined ? undefined : errorMessage(guard.error, current);
  const set = (name: FieldName) => (value: string) => setValues((v) => ({ ...v, [name]: value }));

  useEffect(() => {
    if (error) document.getElementById('form-alert')?.focus();
  }, [error]);

  const onSubmit = (e: TargetedEvent<HTMLFormElement>) => {
    e.preventDefault();
    const found: Partial<Record<FieldName, string>> = {};
    for (const name of ['login', 'code', 'password', 'confirm'] as const) if (values[name].trim() === '') found[name] = t('form.required');
    if (!found.password && [...values.password].length < MIN_PASSWORD_LENGTH) found.password = t('form.tooShort', { min: MIN_PASSWORD_LENGTH });
    if (!found.confirm && values.confirm !== values.password) found.confirm = t('form.mismatch');
    setProblems(found);
    const first = (['login', 'code', 'password', 'confirm'] as const).find((n) => found[n]);
    if (first) {
      document.getElementById(`activate-${first}`)?.focus();
      return;
    }
    guard.start();
  };

  return (
    <section class="card narrow" aria-labelledby="page-title">
      <PageTitle>{t('activate.title')}</PageTitle>
      <p>{t('activate.intro')}</p>
      {error && <FormAlert title={t('login.errorTitle')}>{error}</FormAlert>}
      <GuardNotice guard={guard} />
      <form onSubmit={onSubmit} noValidate>
        <Field id="activate-login" label={t('login.login')} hint={t('login.loginHint')} value={values.login} onInput={set('login')} autocomplete="username" error={problems.login} />
        <Field id="activate-code" label={t('activate.code')} hint={t('activate.codeHint')} value={values.code} onInput={set('code')} autocomplete="one-time-code" error={problems.code} />
        <Field
          id="activate-password" label={t('activate.password')} hint={t('activate.passwordHint', { min: MIN_PASSWORD_LENGTH })} type="password" value={values.password}
          onInput={set('password')} autocomplete="new-password" error={problems.password}
        />
        <Field id="activate-confirm" label={t('activate.confirm')} type="password" value={values.confirm} onInput={set('confirm')} autocomplete="new-password" error={problems.confirm} />
        <Checkbox id="activate-remember" label={t('login.remember')} hint={t('login.rememberHint')} checked={remember} onChange={setRemember} />
        <button type="submit" disabled={guard.busy}>
          {t('activate.submit')}
        </button>
      </form>
      <p>
        <a href={ROUTES.login}>{t('activate.back')}</a>
      </p>
    </section>
  );
}
