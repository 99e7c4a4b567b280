import type { ComponentChildren } from 'preact';
import type { TargetedEvent } from 'preact';

/** A labelled input with its hint and error tied to it (aria-describedby), as RGAA asks. */
export function Field(props: {
  id: string;
  label: string;
  type?: 'text' | 'password';
  value: string;
  onInput: (value: string) => void;
  autocomplete: string;
  hint?: string;
  error?: string | undefined;
  required?: boolean;
  inputMode?: 'text';
  spellcheck?: boolean;
}) {
  const described = [props.hint ? `${props.id}-hint` : '', props.error ? `${props.id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.hint && (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      )}
      <input
        id={props.id}
        name={props.id}
        // Preact's types tie `role` to `type`; a text or password field takes the same attributes here.
        type={(props.type ?? 'text') as 'text'}
        value={props.value}
        autocomplete={props.autocomplete}
        required={props.required ?? true}
        spellcheck={props.spellcheck ?? false}
        autocapitalize="none"
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={described || undefined}
        onInput={(e: TargetedEvent<HTMLInputElement>) => props.onInput(e.currentTarget.value)}
      />
      {props.error && (
        <p class="field-error" id={`${props.id}-error`}>
          {props.error}
        </p>
      )}
    </div>
  );
}

export function Checkbox(props: { id: string; label: string; hint?: string; checked: boolean; onChange: (checked: boolean) => void }) {
  return (
    <div class="field field-checkbox">
      <input
        id={props.id}
        type="checkbox"
        checked={props.checked}
        aria-describedby={props.hint ? `${props.id}-hint` : undefined}
        onChange={(e: TargetedEvent<HTMLInputElement>) => props.onChange(e.currentTarget.checked)}
      />
      <label for={props.id}>{props.label}</label>
      {props.hint && (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      )}
    </div>
  );
}

/** A form-level error: announced at once (role=alert) and focusable so the person lands on it. */
export function FormAlert({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <div class="alert" role="alert" tabIndex={-1} id="form-alert">
      <p class="alert-title">{title}</p>
      <p>{children}</p>
    </div>
  );
}
