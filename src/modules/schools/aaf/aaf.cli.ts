import path from 'node:path';
import type { Storage } from '../../../storage/db.js';
import type { Clock } from '../../../platform/clock.js';
import type { Logger } from '../../../platform/logger.js';
import { AafFormatError, AAF_CATEGORIES, type AafCategory } from './aaf.parser.js';
import { AafMassDepartureError, importAafFeed, type ImportProgress, type ImportSummary } from './aaf.importer.js';

/**
 * `preau import-aaf <dossier ou fichiers…> [--full]`: runs the import with a progress bar on a
 * terminal (plain periodic lines otherwise, for logs and cron mails) and prints a summary table.
 */

const USAGE =
  'usage : preau import-aaf <dossier ou fichiers AAF…> [--full [--allow-mass-departure]]\n' +
  '  --full                  flux complet : les personnes absentes du flux (pour les catégories présentes) sont marquées parties\n' +
  '  --allow-mass-departure  accepte qu’un flux complet fasse partir plus de 20 % d’une catégorie\n';

const CATEGORY_LABELS: Readonly<Record<AafCategory, string>> = {
  EtabEducNat: 'Établissements',
  MatEducNat: 'Matières',
  MefEducNat: 'MEF',
  Eleve: 'Élèves',
  PersRelEleve: 'Responsables',
  PersEducNat: 'Personnels',
};

/** A terminal redraw every 100 ms is smooth; a log line every 5 s is readable. */
const TTY_REFRESH_MS = 100;
const PLAIN_REFRESH_MS = 5_000;
const BAR_WIDTH_CHARS = 30;

export async function importAafCommand(args: string[], deps: { storage: Storage; logger: Logger; clock: Clock; out: NodeJS.WriteStream }): Promise<number> {
  const { out } = deps;
  const fullFeed = args.includes('--full');
  const allowMassDeparture = args.includes('--allow-mass-departure');
  const inputs = args.filter((a) => a !== '--full' && a !== '--allow-mass-departure');
  if (inputs.length === 0 || inputs.some((a) => a.startsWith('--'))) {
    out.write(USAGE);
    return 2;
  }
  const tty = out.isTTY === true;
  const startedMs = Date.now();
  let lastDrawMs = 0;
  let lastLineLength = 0;
  const draw = (p: ImportProgress, force = false): void => {
    const nowMs = Date.now();
    if (!force && nowMs - lastDrawMs < (tty ? TTY_REFRESH_MS : PLAIN_REFRESH_MS)) return;
    lastDrawMs = nowMs;
    const ratio = p.bytesTotal > 0 ? Math.min(1, p.bytesRead / p.bytesTotal) : 1;
    const percent = `${(ratio * 100).toFixed(1).padStart(5)} %`;
    const elapsedS = (nowMs - startedMs) / 1000;
    const rate = elapsedS > 0 ? Math.round(p.records / elapsedS) : 0;
    const eta = ratio > 0.01 && ratio < 1 ? ` · reste ~${formatDuration((elapsedS * (1 - ratio)) / ratio)}` : '';
    const info = `${percent} · ${p.records.toLocaleString('fr-FR')} enregistrements · ${rate.toLocaleString('fr-FR')}/s${eta} · ${path.basename(p.file)}`;
    if (tty) {
      const filled = Math.round(ratio * BAR_WIDTH_CHARS);
      const line = `[${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH_CHARS - filled)}] ${info}`;
      out.write(`\r${line}${' '.repeat(Math.max(0, lastLineLength - line.length))}`);
      lastLineLength = line.length;
    } else out.write(`import AAF : ${info}\n`);
  };

  try {
    const summary = await importAafFeed(deps.storage, inputs, { clock: deps.clock, logger: deps.logger, fullFeed, onProgress: (p) => draw(p), ...(allowMassDeparture ? { maxDepartureRatio: 1 } : {}) });
    if (tty) out.write('\n');
    out.write(renderSummary(summary, (Date.now() - startedMs) / 1000));
    return 0;
  } catch (e) {
    if (tty) out.write('\n');
    if (e instanceof AafFormatError || e instanceof AafMassDepartureError) {
      out.write(`Erreur : ${e.message}\nAucune modification n’a été enregistrée.\n`);
      return 1;
    }
    if (isMissingFile(e)) {
      out.write(`Erreur : fichier ou dossier introuvable : ${e.path ?? ''}\n`);
      return 1;
    }
    throw e;
  }
}

function isMissingFile(e: unknown): e is { code: string; path?: string } {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ENOENT';
}

function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/** The summary as a French table: one line per category that the feed contained. */
export function renderSummary(summary: ImportSummary, elapsedS: number): string {
  const header = ['Catégorie', 'créés', 'mis à jour', 'inchangés', 'partis', 'rejetés'];
  const rows: string[][] = [];
  for (const c of AAF_CATEGORIES) {
    const n = summary.categories[c];
    if (n.created + n.updated + n.unchanged + n.departed + n.rejected === 0) continue;
    rows.push([CATEGORY_LABELS[c], n.created, n.updated, n.unchanged, n.departed, n.rejected].map((v) => (typeof v === 'number' ? v.toLocaleString('fr-FR') : v)));
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [
    `Import AAF terminé en ${formatDuration(elapsedS)} : ${summary.records.toLocaleString('fr-FR')} enregistrements, ${summary.files} fichier(s)${summary.fullFeed ? ', flux complet' : ''}.`,
    '',
    line(header),
    widths.map((w) => '─'.repeat(w)).join('  '),
    ...rows.map(line),
    '',
    `Classes créées : ${summary.classesCreated} · groupes créés : ${summary.groupsCreated}`,
    `Liens en attente : ${summary.pendingLinks.added} ajoutés, ${summary.pendingLinks.resolved} résolus, ${summary.pendingLinks.waiting} toujours en attente (l’autre extrémité n’est pas encore dans le flux)`,
    '',
  ];
  return out.join('\n');
}
