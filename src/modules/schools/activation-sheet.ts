/**
 * Activation codes as handed out in class: a CSV for the office and a printable sheet of
 * cut-out cards. Both are built from untrusted names (from the AAF feed): CSV cells are
 * protected against formula injection and HTML is escaped.
 */
export interface CodeLine {
  className: string;
  lastName: string;
  firstName: string;
  profile: string;
  login: string;
  code: string;
  expiresAt: number;
  /** For a parent: the child the code was printed for. */
  childName?: string;
}

function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[";\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const DATE_FR = new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', day: 'numeric', month: 'long', year: 'numeric' });

/** Semicolon-separated with a BOM: what French spreadsheet software opens correctly. */
export function codesCsv(lines: CodeLine[]): string {
  const head = ['Classe', 'Nom', 'Prénom', 'Profil', 'Pour l’élève', 'Identifiant', 'Code d’activation', 'Valable jusqu’au'];
  const rows = lines.map((l) => [l.className, l.lastName, l.firstName, l.profile, l.childName ?? '', l.login, l.code, DATE_FR.format(l.expiresAt)]);
  return '\uFEFF' + [head, ...rows].map((r) => r.map(csvCell).join(';')).join('\r\n') + '\r\n';
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function codesSheetHtml(lines: CodeLine[], schoolName: string, publicUrl: string): string {
  const cards = lines
    .map(
      (l) => `<article class="carte">
  <h2>${escapeHtml(l.firstName)} ${escapeHtml(l.lastName)}</h2>
  <p class="meta">${escapeHtml(l.profile)} · ${escapeHtml(l.className)}${l.childName ? ` · pour ${escapeHtml(l.childName)}` : ''}</p>
  <dl>
    <dt>Adresse</dt><dd>${escapeHtml(publicUrl)}</dd>
    <dt>Identifiant</dt><dd class="code">${escapeHtml(l.login)}</dd>
    <dt>Code d’activation</dt><dd class="code">${escapeHtml(l.code)}</dd>
    <dt>Valable jusqu’au</dt><dd>${escapeHtml(DATE_FR.format(l.expiresAt))}</dd>
  </dl>
  <p>À la première connexion, choisissez « J’ai un code d’activation », saisissez ce code puis choisissez votre mot de passe. Le code ne sert qu’une fois.</p>
</article>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Codes d’activation — ${escapeHtml(schoolName)}</title>
<link rel="stylesheet" href="/assets/activation-sheet.css">
</head>
<body>
<header><h1>Codes d’activation Préau — ${escapeHtml(schoolName)}</h1><p>Découpez une carte par personne. Ces codes sont personnels : ne les affichez pas.</p></header>
<main class="cartes">
${cards}
</main>
</body>
</html>
`;
}

export const ACTIVATION_SHEET_CSS = `body{font-family:system-ui,sans-serif;margin:1rem;color:#111}
header p{margin:.25rem 0 1rem}
.cartes{display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));gap:.5rem}
.carte{border:1px dashed #555;padding:.75rem;break-inside:avoid;page-break-inside:avoid}
.carte h2{font-size:1.1rem;margin:0}
.meta{margin:.2rem 0 .5rem;color:#333}
dl{display:grid;grid-template-columns:auto 1fr;gap:.1rem .5rem;margin:0 0 .5rem}
dt{font-weight:600}dd{margin:0}
.code{font-family:ui-monospace,monospace;font-size:1.15rem;letter-spacing:.08em}
@media print{header p{display:none}body{margin:0}}
`;
