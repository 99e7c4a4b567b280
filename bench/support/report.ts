import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BenchChild } from './proc.js';
import type { BenchResult, ProgressMessage } from './protocol.js';

const tty = process.stdout.isTTY === true;
const fmt = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 1 });
export const num = (n: number, digits = 1) => new Intl.NumberFormat('fr-FR', { maximumFractionDigits: digits }).format(n);

export function step(text: string): void {
  console.log(`  · ${text}`);
}

/**
 * Shows a child's progress: a redrawn bar on a terminal, a plain line every few seconds otherwise.
 * Returns a function that ends the display.
 */
export function showProgress(label: string, child: BenchChild, unit = 'req'): () => void {
  let lastPlain = -1;
  let active = false;
  child.onMessage((m) => {
    // autocannon ticks once more as it stops: that tick is not shown.
    if (m.type !== 'progress' || m.elapsedS > m.totalS) return;
    const p: ProgressMessage = m;
    const phase = p.phase === 'warmup' ? 'échauffement' : 'mesure';
    const elapsed = p.elapsedS;
    const rate = elapsed > 0 ? p.count / elapsed : 0;
    if (tty) {
      const width = 24;
      const filled = Math.round((elapsed / p.totalS) * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      process.stdout.write(`\r\x1b[2K    ${label} ${phase.padEnd(12)} [${bar}] ${elapsed}/${p.totalS} s · ${fmt.format(p.count)} ${unit} (${fmt.format(rate)}/s)`);
      active = true;
    } else if (p.elapsedS === p.totalS || p.elapsedS - lastPlain >= 5 || lastPlain < 0) {
      lastPlain = p.elapsedS;
      console.log(`    ${label} ${phase} ${elapsed}/${p.totalS} s · ${fmt.format(p.count)} ${unit} (${fmt.format(rate)}/s)`);
    }
    if (p.elapsedS >= p.totalS) lastPlain = -1;
  });
  return () => {
    if (tty && active) process.stdout.write('\r\x1b[2K');
  };
}

const pad = (s: string, n: number, right = false) => (right ? s.padStart(n) : s.padEnd(n));
function verdict(r: BenchResult): string {
  const v = r.verdict ?? (r.ratio >= r.target ? 'atteint' : 'manqué');
  return v === 'indécis' ? 'INDÉCIS (dans le bruit)' : v === 'atteint' ? 'OK' : 'SOUS L’OBJECTIF';
}

export function printSummary(results: BenchResult[], failures: { name: string; error: string }[]): void {
  console.log('\nRésumé (Préau et sa référence mesurés côte à côte, dans ce même lancement)\n');
  const rows = results.map((r) => [
    r.title, `${num(r.preau)} ${r.unit}`, `${num(r.baseline)} ${r.unit}`, r.baselineLabel, num(r.ratio, 3), r.cpuRatio === undefined ? '—' : num(r.cpuRatio, 3), `≥ ${num(r.target, 2)}`, verdict(r),
  ]);
  const head = ['Banc', 'Préau', 'Référence', 'Référence =', 'Ratio', 'Ratio CPU', 'Objectif', 'Verdict'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => pad(c, widths[i]!, i === 1 || i === 2 || i === 4 || i === 5)).join('  ')}`;
  console.log(line(head));
  console.log(`  ${widths.map((w) => '─'.repeat(w)).join('  ')}`);
  for (const row of rows) console.log(line(row));
  for (const f of failures) console.log(`  ${pad(f.name, widths[0]!)}  N’A PAS PU TOURNER : ${f.error}`);
  console.log('\n  Ratio = débit de Préau ÷ débit de la référence (le chiffre jugé). Ratio CPU = temps CPU par opération de la');
  console.log('  référence ÷ celui de Préau : ce que serait le ratio sur un cœur à lui seul, moins sensible au reste de la machine.');

  if (results.length === 0) return;
  console.log('\nRatio / objectif (│ = objectif)\n');
  const width = 50;
  const scale = Math.max(...results.map((r) => Math.max(r.ratio, r.target * 1.25)));
  const nameWidth = Math.max(...results.map((r) => r.title.length));
  for (const r of results) {
    const filled = Math.max(0, Math.min(width, Math.round((r.ratio / scale) * width)));
    const mark = Math.min(width - 1, Math.round((r.target / scale) * width));
    let bar = '';
    for (let i = 0; i < width; i++) bar += i === mark ? '│' : i < filled ? '█' : '·';
    console.log(`  ${pad(r.title, nameWidth)} ${bar} ${num(r.ratio, 3)} (objectif ≥ ${num(r.target, 2)}) ${verdict(r)}`);
  }
}

/** Writes the results as JSON under the system's temporary directory; returns the path. */
export function writeResults(name: string, payload: unknown): string {
  const dir = path.join(tmpdir(), 'preau-bench');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(dir, `${name}-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(payload, null, 2)}\n`);
  return file;
}
