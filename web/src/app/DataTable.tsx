import type { ComponentChildren } from 'preact';

/** A table that scrolls sideways on its own on a narrow screen, with its caption and column headers. */
export function DataTable({ caption, columns, testId, children }: { caption: string; columns: readonly string[]; testId?: string; children: ComponentChildren }) {
  return (
    <div class="table-scroll">
      <table data-testid={testId}>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
