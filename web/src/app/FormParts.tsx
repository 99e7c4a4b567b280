/** Pieces every form with a long action shares: its progress bar, and its error (announced at once). */

export function ProgressLine({ id, label, percent }: { id: string; label: string; percent: number }) {
  return (
    <p>
      <label for={id}>{label}</label>{' '}
      <progress id={id} max={100} value={percent}>
        {percent} %
      </progress>
    </p>
  );
}

export function ErrorLine({ error }: { error: string | undefined }) {
  if (!error) return null;
  return (
    <p role="alert" class="alert">
      {error}
    </p>
  );
}
