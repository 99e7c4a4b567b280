import { useT } from './state.js';

/** Characters left under a field (tied to it by aria-describedby); over the limit it says so. */
export function Counter({ id, left }: { id: string; left: number }) {
  const t = useT();
  return (
    <p id={id} class={left < 0 ? 'hint field-error' : 'hint'}>
      {left < 0 ? t('mail.over', { count: -left }) : t('mail.left', { count: left })}
    </p>
  );
}
