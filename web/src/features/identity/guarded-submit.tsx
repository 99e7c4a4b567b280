import { useEffect, useRef, useState } from 'preact/hooks';
import { nextDelayMs } from '../../api/backoff.js';
import { api, ApiError } from '../../api/client.js';
import { useT } from '../../app/state.js';
import { describeWait } from '../../i18n/index.js';
import { lang } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { useSecondsUntil } from '../../app/use-retrying-load.js';
import { clampPoll, nextLoginStep, readPoll, solveChallenge, type Attempts } from './login-flow.js';

export interface GuardedSubmit {
  /** A request is on its way. */
  submitting: boolean;
  /** In the waiting room: the place and the estimate, refreshed at each poll. */
  waiting: { position: number; estimatedWaitSeconds: number } | undefined;
  /** The browser is solving a proof-of-work challenge. */
  verifying: boolean;
  /** An automatic retry after an overload refusal is planned at this time. */
  retryAtMs: number | undefined;
  /** The refusal to show (after the automatic steps are exhausted or do not apply). */
  error: unknown;
  /** Any automatic step is under way: the submit button waits. */
  busy: boolean;
  start(): void;
  cancel(): void;
}

/**
 * Sends a password form (login, activation) through the crisis morning's edge: waits in the
 * waiting room (polling it, then sending the same form again once admitted — the ticket is an
 * HttpOnly cookie the browser sends by itself), solves a proof-of-work challenge, retries an
 * overload refusal with jittered backoff. Each automatic path is bounded (login-flow.ts); a
 * cancel stops them all. `send` is called with the extra headers to add.
 */
export function useGuardedSubmit(send: (headers: Record<string, string>) => Promise<void>, onDone: () => void): GuardedSubmit {
  const [submitting, setSubmitting] = useState(false);
  const [waiting, setWaiting] = useState<GuardedSubmit['waiting']>();
  const [verifying, setVerifying] = useState(false);
  const [retryAtMs, setRetryAtMs] = useState<number | undefined>();
  const [error, setError] = useState<unknown>();
  const sendRef = useRef(send);
  sendRef.current = send;
  const doneRef = useRef(onDone);
  doneRef.current = onDone;
  const attempts = useRef<Attempts>({ retries: 0, challenges: 0 });
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  // Each start (and each cancel) opens a new generation; late answers of an older one are ignored.
  const generation = useRef(0);

  useEffect(() => () => clearTimeout(timer.current), []);

  const later = (gen: number, ms: number, fn: () => void) => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      if (gen === generation.current) fn();
    }, ms);
  };

  const poll = async (gen: number, failures: number): Promise<void> => {
    try {
      const { data } = await api<unknown>('GET', '/api/v1/waiting-room');
      if (gen !== generation.current) return;
      const outcome = readPoll(data);
      if (outcome.kind === 'waiting') {
        setWaiting({ position: outcome.position, estimatedWaitSeconds: outcome.estimatedWaitSeconds });
        later(gen, outcome.pollAfterMs, () => void poll(gen, 0));
      } else void run(gen, {});
    } catch (err) {
      if (gen !== generation.current) return;
      // Our ticket is no longer valid (expired, used, unknown): the form is sent again and gets a new one.
      if (err instanceof ApiError && err.kind === 'http' && err.status < 500 && err.status !== 429) return void run(gen, {});
      later(gen, clampPoll(nextDelayMs(failures, err instanceof ApiError ? err.retryAfterSeconds : undefined, Math.random)), () => void poll(gen, failures + 1));
    }
  };

  const run = async (gen: number, headers: Record<string, string>): Promise<void> => {
    setSubmitting(true);
    try {
      await sendRef.current(headers);
      if (gen !== generation.current) return;
      setWaiting(undefined);
      setRetryAtMs(undefined);
      doneRef.current();
    } catch (err) {
      if (gen !== generation.current) return;
      const step = nextLoginStep(err, attempts.current);
      if (step.kind === 'queue') {
        setWaiting({ position: step.position, estimatedWaitSeconds: step.estimatedWaitSeconds });
        later(gen, step.pollAfterMs, () => void poll(gen, 0));
      } else if (step.kind === 'challenge') {
        attempts.current.challenges++;
        setWaiting(undefined);
        setVerifying(true);
        try {
          const nonce = await solveChallenge(step.challenge, step.bits);
          if (gen !== generation.current) return;
          setVerifying(false);
          await run(gen, { 'x-preau-challenge': step.challenge, 'x-preau-nonce': nonce });
        } catch (solveErr) {
          if (gen !== generation.current) return;
          setVerifying(false);
          setError(solveErr);
        }
      } else if (step.kind === 'retry') {
        attempts.current.retries++;
        setWaiting(undefined);
        setRetryAtMs(Date.now() + step.delayMs);
        later(gen, step.delayMs, () => {
          setRetryAtMs(undefined);
          void run(gen, {});
        });
      } else {
        setWaiting(undefined);
        setRetryAtMs(undefined);
        setError(err);
      }
    } finally {
      if (gen === generation.current) setSubmitting(false);
    }
  };

  const stop = () => {
    generation.current++;
    clearTimeout(timer.current);
    setWaiting(undefined);
    setVerifying(false);
    setRetryAtMs(undefined);
    setSubmitting(false);
  };

  return {
    submitting,
    waiting,
    verifying,
    retryAtMs,
    error,
    busy: submitting || waiting !== undefined || verifying || retryAtMs !== undefined,
    start() {
      stop();
      attempts.current = { retries: 0, challenges: 0 };
      setError(undefined);
      void run(generation.current, {});
    },
    cancel: stop,
  };
}

/** What the page says while the automatic steps run (a polite live region), with a way out. */
export function GuardNotice({ guard }: { guard: GuardedSubmit }) {
  const t = useT();
  const current = useValue(lang);
  const seconds = useSecondsUntil(guard.retryAtMs);
  let text: string | undefined;
  if (guard.waiting) text = t('login.waiting', { position: guard.waiting.position, wait: describeWait(guard.waiting.estimatedWaitSeconds, current) });
  else if (guard.verifying) text = t('login.verifying');
  else if (guard.retryAtMs !== undefined) text = t('error.auth.busy', { seconds });
  return (
    <div role="status" aria-live="polite">
      {text !== undefined && (
        <div class="notice notice-busy">
          <p>{text}</p>
          {guard.waiting && <p>{t('login.waitingHint')}</p>}
          <button type="button" class="button-secondary" onClick={guard.cancel}>
            {t('login.cancelRetry')}
          </button>
        </div>
      )}
    </div>
  );
}
