import { useState } from 'preact/hooks';
import type { TargetedEvent } from 'preact';
import { api } from '../../api/client.js';
import type { PlatformStatus } from '../../api/types.js';
import { errorMessage } from '../../app/errors.js';
import { announce, lang, platformStatus, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { Checkbox } from '../identity/forms.js';

/** The platform operator's form for the banner (PUT /api/v1/admin/status; the server checks the profile). */
export function StatusAdmin() {
  const t = useT();
  const current = useValue(lang);
  const status = useValue(platformStatus);
  const [incident, setIncident] = useState(status.incident ?? '');
  const [readOnly, setReadOnly] = useState(status.readOnly);
  const [error, setError] = useState<string | undefined>();
  const [saved, setSaved] = useState(false);

  const onSubmit = async (e: TargetedEvent<HTMLFormElement>) => {
    e.preventDefault();
    setSaved(false);
    setError(undefined);
    // What the field holds now, not the last render's state: a quick click after typing must send what was typed.
    const typed = (e.currentTarget.elements.namedItem('incident') as HTMLTextAreaElement | null)?.value ?? incident;
    try {
      const { data } = await api<PlatformStatus>('PUT', '/api/v1/admin/status', { body: { incident: typed.trim() || null, readOnly } });
      platformStatus.set(data);
      setSaved(true);
      announce(t('statusAdmin.saved'));
    } catch (err) {
      setError(errorMessage(err, current));
    }
  };

  return (
    <section class="card" aria-labelledby="status-admin">
      <h2 id="status-admin">{t('statusAdmin.title')}</h2>
      <p>{t('statusAdmin.intro')}</p>
      {error && (
        <p class="field-error" role="alert">
          {error}
        </p>
      )}
      {saved && <p class="success">{t('statusAdmin.saved')}</p>}
      <form onSubmit={(e) => void onSubmit(e)} noValidate>
        <div class="field">
          <label for="status-incident">{t('statusAdmin.incident')}</label>
          <p class="hint" id="status-incident-hint">
            {t('statusAdmin.incidentHint')}
          </p>
          <textarea id="status-incident" name="incident" rows={3} maxLength={500} aria-describedby="status-incident-hint" value={incident} onInput={(e: TargetedEvent<HTMLTextAreaElement>) => setIncident(e.currentTarget.value)} />
        </div>
        <Checkbox id="status-read-only" label={t('statusAdmin.readOnly')} hint={t('statusAdmin.readOnlyHint')} checked={readOnly} onChange={setReadOnly} />
        <button type="submit">{t('statusAdmin.submit')}</button>
      </form>
    </section>
  );
}
