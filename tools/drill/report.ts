/**
 * The drill's report: verdicts per goal (with the thresholds used), a JSON file for CI, a
 * self-contained HTML page in French (inline CSS and SVG charts, no external resource) and a
 * terminal summary.
 */
import { ATTACK_OUTCOMES, type AttackOutcome, type AttackSummary } from './attack.js';
import type { CheckResult } from './checker.js';
import { faultVerdict, type FailoverRecord, type FaultKind } from './fault.js';
import type { LoadResult, SecondStats } from './protocol.js';
import type { DrillProfile } from './roster.js';
import { PHASE_LABELS, PHASES, PROFILE_LABELS, simulatedClock, type Phase } from './scenario.js';

export const THRESHOLDS = {
  /** p95 of pupils' reads (Aujourd'hui, cahier de textes) in the ramp and the peak. */
  pupilReadP95Ms: 1_000,
  /** Actions that succeeded in the end (after waiting-room tickets, challenges and backoff). */
  successRate: 0.99,
  /** Slow connections are judged when watched this long (the edge cuts slow reads at 30 s). */
  slowWatchS: 35,
} as const;

export interface ServerSample {
  sec: number;
  cpuPercent: number | null;
  rssMb: number | null;
  /** preau_waiting_room_waiting from /metrics. */
  waitingRoom: number | null;
}

export interface Verdict {
  id: 'nothing_lost' | 'pupil_read_p95' | 'success_rate' | 'all_phases' | 'attack_no_session' | 'slow_cut' | 'writes_back';
  goal: string;
  threshold: string;
  measured: string;
  ok: boolean;
}

/**
 * What the fault overlay did at a simulated time: `restart`, the process killed and how long until it
 * was ready again; `primary` / `site` (two sites), what was killed and the failover the clients saw.
 */
export interface FaultRecord {
  kind: FaultKind;
  /** Simulated time, "08:30". */
  at: string;
  /** Second of the drill (since the warm-up began). */
  atSec: number;
  /** `restart`: from the kill to the new process listening. */
  readyAfterMs?: number;
  /** `primary`, `site`: the failover (fault.ts). */
  failover?: FailoverRecord;
}

/** One morning against one Préau. */
export interface DrillRunReport {
  version: 1;
  startedAt: string;
  options: { schools: number; classes: number; pupils: number; durationS: number; warmupS: number; seed: number; rememberedPercent: number; database?: 'sqlite' | 'postgres' };
  /** The edge protections of the Préau played against (off: the baseline), and crisis mode. */
  edge: { on: boolean; crisis: boolean };
  /** The deployment played against (`--target`), or null for the drill's own Préau. */
  target: string | null;
  /** The attack overlay, when it was on. */
  attack: AttackSummary | null;
  /** The fault overlay, when it was on. */
  fault: FaultRecord | null;
  population: { pupils: number; parents: number; teachers: number; visits: number; firstTime: number };
  phases: Record<Phase, LoadResult['phases'][Phase] & { ran: boolean }>;
  signIns: LoadResult['signIns'];
  actionsByKind: LoadResult['actionsByKind'];
  pupilReads: LoadResult['pupilReads'];
  queueWaits: LoadResult['queueWaits'];
  at830: { pupils: number; p95Ms: number; reads: number; underThreshold: boolean; sentence: string };
  cut: number;
  seconds: SecondStats[];
  server: ServerSample[];
  check: CheckResult;
  verdicts: Verdict[];
  ok: boolean;
}

/** The drill's report: the morning against Préau, and (`--compare-baseline`) the same morning with its edge off. */
export type DrillReport = DrillRunReport & { baseline?: DrillRunReport };

const pct = (x: number) => `${(x * 100).toLocaleString('fr-FR', { maximumFractionDigits: 2 })} %`;
const ms = (x: number) => `${Math.round(x).toLocaleString('fr-FR')} ms`;

export function buildReport(input: {
  startedAt: Date;
  options: DrillRunReport['options'];
  edge: DrillRunReport['edge'];
  target: string | null;
  population: DrillRunReport['population'];
  load: LoadResult;
  server: ServerSample[];
  check: CheckResult;
  attack: AttackSummary | null;
  fault: FaultRecord | null;
}): DrillRunReport {
  const { load, check } = input;
  const phases = Object.fromEntries(PHASES.map((p) => [p, { ...load.phases[p], ran: load.phases[p].actionsOk > 0 }])) as DrillRunReport['phases'];
  const done = PHASES.reduce((n, p) => n + load.phases[p].actionsOk, 0);
  const failed = PHASES.reduce((n, p) => n + load.phases[p].actionsFailed, 0);
  const successRate = done + failed > 0 ? done / (done + failed) : 0;
  const lost = check.missing.length + check.duplicated.length;
  const verdicts: Verdict[] = [
    {
      id: 'nothing_lost', goal: 'Aucune écriture acquittée perdue ni en double', threshold: '0 manquante, 0 en double',
      measured: `${check.handins.found}/${check.handins.acknowledged} rendus, ${check.posts.found}/${check.posts.acknowledged} travaux et ${check.messages.found}/${check.messages.acknowledged} messages retrouvés ; ${check.missing.length} manquant(s), ${check.duplicated.length} en double`,
      ok: lost === 0 && check.handins.acknowledged + check.posts.acknowledged + check.messages.acknowledged > 0,
    },
    { id: 'pupil_read_p95', goal: 'Lectures des élèves (Aujourd’hui, cahier de textes) rapides', threshold: `p95 ≤ ${ms(THRESHOLDS.pupilReadP95Ms)}`, measured: `p95 ${ms(load.pupilReads.p95)} sur ${load.pupilReads.n.toLocaleString('fr-FR')} lectures`, ok: load.pupilReads.n > 0 && load.pupilReads.p95 <= THRESHOLDS.pupilReadP95Ms },
    { id: 'success_rate', goal: 'Actions réussies (après file d’attente, défis et nouvelles tentatives)', threshold: `≥ ${pct(THRESHOLDS.successRate)}`, measured: `${pct(successRate)} (${done.toLocaleString('fr-FR')} sur ${(done + failed).toLocaleString('fr-FR')})`, ok: successRate >= THRESHOLDS.successRate },
    { id: 'all_phases', goal: 'Toutes les phases ont eu lieu', threshold: PHASES.map((p) => PHASE_LABELS[p]).join(', '), measured: PHASES.map((p) => `${PHASE_LABELS[p]} : ${phases[p].actionsOk} actions`).join(' ; '), ok: PHASES.every((p) => phases[p].ran) },
    ...attackVerdicts(input.attack),
    ...faultVerdicts(input.fault),
  ];
  const a = load.at830;
  const under = a.pupilReads.n > 0 && a.pupilReads.p95 <= THRESHOLDS.pupilReadP95Ms;
  const sentence = a.pupilReads.n === 0
    ? 'À 8 h 30 (08:25–08:35 simulées), aucun élève simulé n’a été servi.'
    : `À 8 h 30 (08:25–08:35 simulées), ${input.fault?.failover ? 'les deux nœuds ont' : 'ce nœud a'} servi ${a.pupils} élèves simulés avec un p95 de lecture de ${ms(a.pupilReads.p95)} : ${under ? 'sous' : 'AU-DESSUS de'} 1 s.`;
  return {
    version: 1,
    startedAt: input.startedAt.toISOString(),
    options: input.options,
    edge: input.edge,
    target: input.target,
    attack: input.attack,
    fault: input.fault,
    population: input.population,
    phases,
    signIns: load.signIns,
    actionsByKind: load.actionsByKind,
    pupilReads: load.pupilReads,
    queueWaits: load.queueWaits,
    at830: { pupils: a.pupils, p95Ms: a.pupilReads.p95, reads: a.pupilReads.n, underThreshold: under, sentence },
    cut: load.cut,
    seconds: load.seconds,
    server: input.server,
    check,
    verdicts,
    ok: verdicts.every((v) => v.ok),
  };
}

/** With the attack overlay: no attempt opened a session, and the slow connections were cut (when watched long enough to tell). */
function attackVerdicts(a: AttackSummary | null): Verdict[] {
  if (!a) return [];
  const attempts = a.flood.sent + a.stuffing.sent;
  const opened = a.flood.outcomes['session ouverte'] + a.stuffing.outcomes['session ouverte'];
  const verdicts: Verdict[] = [
    { id: 'attack_no_session', goal: 'Aucun essai de l’attaque n’ouvre de session', threshold: '0 session ouverte', measured: `${opened.toLocaleString('fr-FR')} session(s) ouverte(s) sur ${attempts.toLocaleString('fr-FR')} essais`, ok: opened === 0 && attempts > 0 },
  ];
  const slow = [a.slowHeaders, ...(a.slowReadsSkipped ? [] : [a.slowReads])];
  const opens = slow.reduce((n, s) => n + s.opened, 0);
  if (a.slowWatchS >= THRESHOLDS.slowWatchS && opens > 0) {
    const still = slow.reduce((n, s) => n + s.stillOpen, 0);
    verdicts.push({
      id: 'slow_cut', goal: 'Connexions lentes coupées par le serveur', threshold: `toutes, en moins de ${a.slowWatchS} s`,
      measured: `${(opens - still).toLocaleString('fr-FR')} coupées sur ${opens.toLocaleString('fr-FR')} ouvertes (en-têtes lents : médiane ${fmtS(a.slowHeaders.cutP50S)}${a.slowReadsSkipped ? '' : ` ; lectures lentes : médiane ${fmtS(a.slowReads.cutP50S)}`})`,
      ok: still === 0,
    });
  }
  return verdicts;
}
/** A fault on two sites: writes came back on site B. */
function faultVerdicts(f: FaultRecord | null): Verdict[] {
  if (!f?.failover || f.kind === 'restart') return [];
  const v = faultVerdict({ kind: f.kind, failover: f.failover });
  return [{ id: 'writes_back', goal: f.kind === 'primary' ? 'Les écritures reprennent après l’arrêt de la base primaire' : 'Les écritures reprennent après la perte du site A', ...v }];
}

/** How the fault is said in a sentence. */
export function faultLabel(f: FaultRecord): string {
  if (f.kind === 'restart') return `Préau tué (SIGKILL) à ${f.at}, puis relancé`;
  if (f.kind === 'primary') return `base primaire du site A arrêtée à ${f.at} (Patroni et PostgreSQL tués, nœuds Préau gardés)`;
  return `site A coupé à ${f.at} (tous ses processus tués, son lien coupé)`;
}

const fmtS = (x: number) => (Number.isFinite(x) ? `${x.toLocaleString('fr-FR', { maximumFractionDigits: 1 })} s` : '—');

// ---------- HTML ----------
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const PROFILE_COLORS: Readonly<Record<DrillProfile, string>> = { eleve: '#1b5fa8', parent: '#b35900', enseignant: '#2e7d32' };
const PHASE_FILL: Readonly<Record<Phase, string>> = { warmup: '#f3f1e8', ramp: '#eaf1fa', peak: '#fbeaea' };

interface Series {
  label: string;
  color: string;
  values: (number | null)[];
}

/** A line chart over the drill's seconds, with the phases as background bands and the simulated clock on the x axis. */
/** A chart's time axis: the phases, and the fault's instant when there was one (a marked vertical line). */
interface ChartTiming {
  warmupS: number;
  peakS: number;
  fault?: { sec: number; label: string };
}

const chartTiming = (r: DrillRunReport): ChartTiming => ({ warmupS: r.options.warmupS, peakS: r.options.durationS, ...(r.fault ? { fault: { sec: r.fault.atSec, label: `panne ${r.fault.at}` } } : {}) });

function lineChart(title: string, unit: string, xs: number[], series: Series[], timing: ChartTiming, limit?: { value: number; label: string }): string {
  const W = 720;
  const H = 220;
  const left = 56;
  const right = 12;
  const top = 12;
  const bottom = 34;
  const maxX = Math.max(1, ...xs);
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const maxY = Math.max(1, limit?.value ?? 0, ...all) * 1.1;
  const x = (v: number) => left + (v / maxX) * (W - left - right);
  const y = (v: number) => top + (1 - v / maxY) * (H - top - bottom);
  const parts: string[] = [];
  // The phases, then what runs after 08:45 (visits finishing, cut at the end of the drain).
  const end = timing.warmupS + timing.peakS;
  const bands: [string, string, number, number][] = [
    [PHASE_LABELS.warmup, PHASE_FILL.warmup, 0, timing.warmupS],
    [PHASE_LABELS.ramp, PHASE_FILL.ramp, timing.warmupS, timing.warmupS + (timing.peakS * 2) / 3],
    [PHASE_LABELS.peak, PHASE_FILL.peak, timing.warmupS + (timing.peakS * 2) / 3, end],
    ['fin des visites', '#f4f4f4', end, maxX],
  ];
  for (const [label, fill, from, to] of bands) {
    if (from >= maxX || to <= from) continue;
    parts.push(`<rect x="${x(from).toFixed(1)}" y="${top}" width="${Math.max(0, x(Math.min(to, maxX)) - x(from)).toFixed(1)}" height="${H - top - bottom}" fill="${fill}"/>`);
    parts.push(`<text x="${(x(from) + 4).toFixed(1)}" y="${top + 12}" font-size="11" fill="#555">${esc(label)}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const v = (maxY / 1.1) * (i / 4);
    parts.push(`<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#333">${esc(v.toLocaleString('fr-FR', { maximumFractionDigits: maxY < 5 ? 1 : 0 }))}</text>`);
  }
  const ticks = Math.min(8, maxX);
  for (let i = 0; i <= ticks; i++) {
    const sec = (maxX * i) / ticks;
    parts.push(`<text x="${x(sec).toFixed(1)}" y="${H - bottom + 16}" font-size="11" text-anchor="middle" fill="#333">${simulatedClock(sec * 1000, timing)}</text>`);
  }
  parts.push(`<text x="${W - right}" y="${H - 4}" font-size="11" text-anchor="end" fill="#555">heure simulée (${maxX} s réelles)</text>`);
  parts.push(`<text x="4" y="${top + 4}" font-size="11" fill="#555" transform="rotate(90 4 ${top + 4})">${esc(unit)}</text>`);
  if (timing.fault && timing.fault.sec <= maxX) {
    const fx = x(timing.fault.sec).toFixed(1);
    parts.push(`<line class="fault" x1="${fx}" x2="${fx}" y1="${top}" y2="${H - bottom}" stroke="#000" stroke-width="2" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${(Number(fx) + 4).toFixed(1)}" y="${top + 26}" font-size="11" font-weight="bold" fill="#000">${esc(timing.fault.label)}</text>`);
  }
  if (limit) {
    parts.push(`<line x1="${left}" x2="${W - right}" y1="${y(limit.value).toFixed(1)}" y2="${y(limit.value).toFixed(1)}" stroke="#c62828" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${W - right - 4}" y="${(y(limit.value) - 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#c62828">${esc(limit.label)}</text>`);
  }
  for (const s of series) {
    let d = '';
    s.values.forEach((v, i) => {
      if (v === null) return;
      d += `${d === '' || s.values[i - 1] === null ? 'M' : 'L'}${x(xs[i]!).toFixed(1)},${y(v).toFixed(1)} `;
    });
    if (d) parts.push(`<path d="${d.trim()}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
  }
  const legend = series.map((s) => `<span class="key"><span class="swatch" style="background:${s.color}"></span>${esc(s.label)}</span>`).join(' ');
  const summary = series.map((s) => `${s.label} : max ${Math.round(Math.max(0, ...s.values.filter((v): v is number => v !== null))).toLocaleString('fr-FR')}`).join(', ');
  return `<figure><figcaption>${esc(title)}</figcaption><svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`${title} — ${summary}`)}"><title>${esc(title)}</title>${parts.join('')}</svg><div class="legend">${legend}</div></figure>`;
}

function barChart(title: string, rows: [string, number][]): string {
  if (rows.length === 0) return `<figure><figcaption>${esc(title)}</figcaption><p>Aucun refus.</p></figure>`;
  const W = 720;
  const rowH = 22;
  const labelW = 260;
  const max = Math.max(1, ...rows.map((r) => r[1]));
  const H = rows.length * rowH + 8;
  const bars = rows
    .map(([label, n], i) => {
      const w = ((W - labelW - 80) * n) / max;
      const yy = 4 + i * rowH;
      return `<text x="${labelW - 6}" y="${yy + 15}" font-size="12" text-anchor="end">${esc(label)}</text><rect x="${labelW}" y="${yy + 3}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="#8a2be2"/><text x="${(labelW + w + 6).toFixed(1)}" y="${yy + 15}" font-size="12">${n.toLocaleString('fr-FR')}</text>`;
    })
    .join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`${title} — ${rows.map(([l, n]) => `${l} : ${n}`).join(', ')}`)}"><title>${esc(title)}</title>${bars}</svg></figure>`;
}

function table(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

export function refusalTotals(seconds: SecondStats[]): [string, number][] {
  const totals: Record<string, number> = {};
  for (const s of seconds) for (const [k, n] of Object.entries(s.refusals)) totals[k] = (totals[k] ?? 0) + n;
  return Object.entries(totals).sort((a, b) => b[1] - a[1]);
}

const OUTCOME_COLORS: Readonly<Record<AttackOutcome, string>> = {
  refusé: '#555', défié: '#6a1b9a', 'mis en file': '#ef6c00', 'mot de passe vérifié': '#c62828', 'session ouverte': '#000', 'sans réponse': '#9e9e9e', autre: '#00838f',
};

const sideLabel = (r: DrillRunReport) =>
  (r.target ? `déploiement ${r.target}` : r.edge.on ? `avec ses protections de bordure${r.edge.crisis ? ' (mode crise)' : ''}` : 'SANS protections de bordure (référence)') +
  (r.fault?.failover ? ', deux nœuds sur deux sites (PostgreSQL via Patroni)' : r.options.database === 'postgres' ? ', sur PostgreSQL' : '');

/** The attack's section: what it sent, what became of it, second by second, and the slow connections. */
function attackSection(r: DrillRunReport, h: string): string {
  const a = r.attack;
  if (!a) return '';
  const timing = chartTiming(r);
  const xs = r.seconds.map((s) => s.sec);
  const at = new Map(a.seconds.map((s) => [s.sec, s.outcomes]));
  const shown = ATTACK_OUTCOMES.filter((o) => a.flood.outcomes[o] + a.stuffing.outcomes[o] > 0);
  const series = shown.map((o) => ({ label: o, color: OUTCOME_COLORS[o], values: r.seconds.map((s) => at.get(s.sec)?.[o] ?? (s.sec >= a.startSec && s.sec < a.startSec + a.durationS ? 0 : null)) }));
  const row = (label: string, st: AttackSummary['flood'], rate: number) => [label, `${rate.toLocaleString('fr-FR')}/s`, st.sent.toLocaleString('fr-FR'), ...ATTACK_OUTCOMES.map((o) => st.outcomes[o].toLocaleString('fr-FR'))];
  const slowRow = (label: string, c: AttackSummary['slowHeaders']) => [label, String(c.opened + c.failedToOpen), String(c.opened), String(c.cutByServer), String(c.stillOpen), fmtS(c.cutP50S), fmtS(c.cutMaxS)];
  return `<${h}>L’attaque (08:00–08:45)</${h}>
<p>Inondation de mots de passe courants sur des identifiants d’élèves réels depuis l’« étranger » (${a.options.floodRatePerS.toLocaleString('fr-FR')} essais/s), bourrage d’identifiants réels avec des mots de passe faux depuis ${a.options.stuffingAddresses.toLocaleString('fr-FR')} adresses dont la moitié en France (${a.options.stuffingRatePerS.toLocaleString('fr-FR')} essais/s), ${a.options.slowHeaders.toLocaleString('fr-FR')} connexions aux en-têtes lents et ${a.options.slowReads.toLocaleString('fr-FR')} lectures lentes, observées ${a.slowWatchS} s. Les pays viennent d’une table de test pour 127.0.0.0/8. Retard de la boucle du générateur de l’attaque (p99) : ${ms(a.generatorLagP99Ms)}.</p>
${table(['Flux', 'Cadence', 'Envoyés', ...ATTACK_OUTCOMES], [row('inondation (étranger)', a.flood, a.options.floodRatePerS), row('bourrage d’identifiants', a.stuffing, a.options.stuffingRatePerS)])}
${lineChart('Trafic de l’attaque par seconde, selon ce qu’il est devenu', 'réponses/s', xs, series, timing)}
${table(['Connexions lentes', 'Tentées', 'Ouvertes', 'Coupées par le serveur', 'Encore ouvertes à la fin', 'Coupure médiane', 'Coupure max'], [slowRow('en-têtes lents', a.slowHeaders), ...(a.slowReadsSkipped ? [] : [slowRow('lectures lentes', a.slowReads)])])}
${a.slowReadsSkipped ? `<p>Lectures lentes non jouées : ${esc(a.slowReadsSkipped)}.</p>` : ''}`;
}

/** The fault overlay: what was killed and when, how long until service came back, what the clients saw meanwhile. */
function faultSection(r: DrillRunReport, h: string): string {
  const f = r.fault;
  if (!f) return '';
  const backMs = f.kind === 'restart' ? (f.readyAfterMs ?? 0) : (f.failover?.writesBackAfterMs ?? f.failover?.newPrimaryAfterMs ?? 30_000);
  const around = r.seconds.filter((s) => s.sec >= f.atSec && s.sec <= f.atSec + Math.ceil(backMs / 1000) + 5);
  const failed = refusalTotals(around);
  const seen = `Pendant ce temps et les 5 s suivantes, les clients ont vu : ${failed.length === 0 ? 'aucun échec' : esc(failed.map(([k, n]) => `${k} ${n}`).join(', '))} (ils réessaient avec un délai croissant, comme le client web).`;
  if (f.kind === 'restart') {
    return `<${h}>La panne (${esc(f.at)})</${h}>
<p>À ${esc(f.at)} (seconde ${f.atSec}), le processus du Préau est tué sans préavis (SIGKILL), puis relancé sur la même base et le même port : de nouveau prêt après ${ms(f.readyAfterMs ?? 0)}. ${seen} Les écritures acquittées avant la panne sont recherchées avec les autres ci-dessous.</p>`;
  }
  const o = f.failover;
  const s = (x: number | null | undefined) => (x === null || x === undefined ? 'jamais' : `${(x / 1000).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} s`);
  return `<${h}>La panne (${esc(f.at)})</${h}>
<p>Le matin se joue sur deux sites (espaces de noms réseau ${esc(o?.layout ?? '')}) : etcd sur trois membres (A, B et un témoin), Patroni + PostgreSQL 15 en réplication synchrone (primaire au site A), un HAProxy par site vers le primaire, un nœud Préau par site, et devant eux un HAProxy frontal sur 127.0.0.1 (contrôles /readyz, protocole PROXY : chaque client garde son adresse). À ${esc(f.at)} (seconde ${f.atSec}), ${esc(faultLabel(f))} : ${o?.killed ?? 0} processus tués.</p>
${table(['Mesure', 'Valeur'], [
    ['Site B primaire (Patroni) après', s(o?.newPrimaryAfterMs)],
    ['Écritures de nouveau acquittées après (première réussite après le dernier échec)', s(o?.writesBackAfterMs)],
    ['Fenêtre de lecture seule vue par les clients (premier échec → reprise)', s(o?.readOnlyWindowMs)],
    ['Refus « lecture seule » (platform.read_only)', String(o?.readOnlyAnswers ?? 0)],
    ['Autres échecs d’écriture (réseau, délai, 5xx)', String(o?.otherFailures ?? 0)],
    ['Refus « clé en cours » (une requête coupée par la panne tenait la clé)', String(o?.stuckAnswers ?? 0)],
    ['Primaire à la fin', o?.newPrimary ?? 'aucun'],
  ])}
<p>${seen} Chaque écriture acquittée, avant comme après la panne, est redemandée à l’API par le répartiteur à la fin (ci-dessous). Les graphiques « Serveur » montrent le nœud du site B (celui qui survit).</p>`;
}

/** Everything about one morning, headings at the given level. */
function runSections(r: DrillRunReport, level: 2 | 3): string {
  const h = `h${level}`;
  const timing = chartTiming(r);
  const xs = r.seconds.map((s) => s.sec);
  const profiles = (Object.keys(PROFILE_LABELS) as DrillProfile[]).filter((p) => r.seconds.some((s) => s.latency[p]));
  const lat = (q: 'p50' | 'p95') => profiles.map((p) => ({ label: PROFILE_LABELS[p], color: PROFILE_COLORS[p], values: r.seconds.map((s) => s.latency[p]?.[q] ?? null) }));
  const serverAt = (f: (s: ServerSample) => number | null) => r.seconds.map((s) => f(r.server.find((x) => x.sec === s.sec) ?? { sec: s.sec, cpuPercent: null, rssMb: null, waitingRoom: null }));
  const verdictRows = r.verdicts.map((v) => `<tr class="${v.ok ? 'ok' : 'ko'}"><td>${v.ok ? '✔ tenu' : '✘ non tenu'}</td><td>${esc(v.goal)}</td><td>${esc(v.threshold)}</td><td>${esc(v.measured)}</td></tr>`).join('');
  const lostRows = [...r.check.missing.map((m) => ['manquant', m.kind, m.id, m.login, m.why]), ...r.check.duplicated.map((m) => ['en double', m.kind, m.id, m.login, m.why])];
  return `<p class="verdict ${r.ok ? 'ok' : 'ko'}">${r.ok ? 'Tous les objectifs sont tenus.' : 'Au moins un objectif n’est pas tenu.'}</p>
<p class="at830">${esc(r.at830.sentence)}</p>
<${h}>Verdicts</${h}>
<table><thead><tr><th scope="col">Verdict</th><th scope="col">Objectif</th><th scope="col">Seuil</th><th scope="col">Mesuré</th></tr></thead><tbody>${verdictRows}</tbody></table>
<${h}>Charge</${h}>
${lineChart('Charge offerte et servie (requêtes par seconde)', 'req/s', xs, [{ label: 'offerte (requêtes envoyées)', color: '#555', values: r.seconds.map((s) => s.offered) }, { label: 'servie (réponses 2xx)', color: '#1b5fa8', values: r.seconds.map((s) => s.served) }], timing)}
${lineChart('Latence p95 par classe d’utilisateurs (ms)', 'ms', xs, lat('p95'), timing, { value: THRESHOLDS.pupilReadP95Ms, label: 'objectif des élèves : 1 s' })}
${lineChart('Latence médiane (p50) par classe d’utilisateurs (ms)', 'ms', xs, lat('p50'), timing)}
${lineChart('Salle d’attente : tickets en attente', 'personnes', xs, [{ label: 'selon le serveur (/metrics)', color: '#6a1b9a', values: serverAt((s) => s.waitingRoom) }, { label: 'selon les clients', color: '#ef6c00', values: r.seconds.map((s) => s.waitingClients) }], timing)}
<p>Attente en salle d’attente des connexions qui y sont passées : ${r.queueWaits.n === 0 ? 'aucune connexion n’a attendu.' : `${r.queueWaits.n} connexion(s), médiane ${ms(r.queueWaits.p50)}, p95 ${ms(r.queueWaits.p95)}, p99 ${ms(r.queueWaits.p99)}.`}</p>
${barChart('Refus et échecs par raison (toutes tentatives comprises)', refusalTotals(r.seconds))}
${faultSection(r, h)}
${attackSection(r, h)}
<${h}>Serveur</${h}>
${lineChart('Processeur du serveur (% d’un cœur)', '%', xs, [{ label: 'CPU', color: '#c62828', values: serverAt((s) => s.cpuPercent) }], timing)}
${lineChart('Mémoire du serveur (Mo résidents)', 'Mo', xs, [{ label: 'RSS', color: '#00695c', values: serverAt((s) => s.rssMb) }], timing)}
<${h}>Phases</${h}>
${table(['Phase', 'Visites', 'Actions réussies', 'Actions échouées', 'Non commencées (fin de l’exercice)', 'Connexions échouées'], PHASES.map((p) => [PHASE_LABELS[p], String(r.phases[p].visits), String(r.phases[p].actionsOk), String(r.phases[p].actionsFailed), String(r.phases[p].actionsNotStarted), String(r.phases[p].signInsFailed)]))}
<${h}>Connexions</${h}>
${table(['Session mémorisée', 'Mot de passe', 'Première connexion', 'Passées par la salle d’attente', 'Défi de calcul', 'Échouées', 'La veille (non chronométrées)'], [[String(r.signIns.remembered), String(r.signIns.password), String(r.signIns.activation), String(r.signIns.queued), String(r.signIns.challenged), String(r.signIns.failed), `${r.signIns.eveningBefore} (${r.signIns.eveningBeforeFailed} échouée(s))`]])}
<p>Les défis de calcul sont résolus par le générateur de charge, sur un seul cœur pour tous les clients simulés (un vrai téléphone les résout sur le sien, en même temps que les autres) : ${(r.signIns.solveMs / 1000).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} s d’attente cumulée des connexions défiées (file du générateur comprise). Sous forte pression, ce temps allonge les connexions simulées plus que dans la réalité.</p>
<${h}>Actions</${h}>
${table(['Action', 'Réussies', 'Échouées'], Object.entries(r.actionsByKind).map(([k, v]) => [k, String(v.ok), String(v.failed)]))}
<p>Lectures des élèves (montée et pointe) : p50 ${ms(r.pupilReads.p50)}, p95 ${ms(r.pupilReads.p95)}, p99 ${ms(r.pupilReads.p99)} sur ${r.pupilReads.n} lectures. Visites coupées à la fin : ${r.cut}.</p>
<${h}>Écritures acquittées, vérifiées dans la base</${h}>
<p>${r.check.method === 'api' ? 'Vérifiées par l’API du déploiement, par les personnes qui les ont faites (reçu du rendu et son empreinte SHA-256, travail vu par son enseignant, message dans la boîte de son expéditeur) : les copies en double ne se voient pas ainsi et ne sont pas comptées. ' : ''}${r.check.handins.found} rendus retrouvés sur ${r.check.handins.acknowledged} acquittés${r.check.method === 'api' ? '' : ' (ligne, fichier et octets sur le disque vérifiés par SHA-256)'} ; ${r.check.posts.found} travaux retrouvés sur ${r.check.posts.acknowledged} publiés (avec leur dernière modification acquittée) ; ${r.check.messages.found} messages retrouvés sur ${r.check.messages.acknowledged} envoyés (expéditeur, objet et boîte du destinataire vérifiés).</p>
${lostRows.length > 0 ? table(['État', 'Type', 'Identifiant', 'Identifiant de connexion', 'Pourquoi'], lostRows) : '<p>Aucune écriture manquante ni en double.</p>'}`;
}

/** Side by side: each goal with and without the edge protections. */
function comparison(r: DrillRunReport, b: DrillRunReport): string {
  const cell = (v: Verdict | undefined) => (v ? `<td class="${v.ok ? 'ok' : 'ko'}">${v.ok ? '✔' : '✘'} ${esc(v.measured)}</td>` : '<td>—</td>');
  const ids = [...new Set([...r.verdicts, ...b.verdicts].map((v) => v.id))];
  const rows = ids.map((id) => {
    const v = r.verdicts.find((x) => x.id === id);
    const w = b.verdicts.find((x) => x.id === id);
    return `<tr><th scope="row">${esc((v ?? w)!.goal)}<br><small>${esc((v ?? w)!.threshold)}</small></th>${cell(v)}${cell(w)}</tr>`;
  });
  const at = (x: DrillRunReport) => `${x.at830.pupils} élèves, p95 ${ms(x.at830.p95Ms)} (${x.at830.underThreshold ? 'sous' : 'AU-DESSUS de'} 1 s)`;
  rows.push(`<tr><th scope="row">À 8 h 30 (08:25–08:35 simulées)</th><td class="${r.at830.underThreshold ? 'ok' : 'ko'}">${esc(at(r))}</td><td class="${b.at830.underThreshold ? 'ok' : 'ko'}">${esc(at(b))}</td></tr>`);
  return `<h2>Avec et sans protections de bordure</h2>
<p>Le même matin (même académie, même graine${r.attack ? ', même attaque' : ''}) joué deux fois contre un Préau neuf : avec ses protections de bordure, puis sans (la référence).</p>
<table class="compare"><thead><tr><th scope="col">Objectif</th><th scope="col">Avec protections${r.edge.crisis ? ' (mode crise)' : ''}</th><th scope="col">Sans protections</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export function renderHtml(r: DrillReport): string {
  const b = r.baseline;
  return `<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Exercice du matin — Préau — ${esc(r.startedAt)}</title>
<style>
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;max-width:60rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
tr.ok td:first-child{background:#e3f3e5;color:#1b5e20;font-weight:bold}tr.ko td:first-child{background:#fde7e7;color:#b71c1c;font-weight:bold}
td.ok{background:#e3f3e5}td.ko{background:#fde7e7}.compare th[scope=row]{font-weight:normal}
.verdict{font-size:1.2rem;padding:.6rem 1rem;border-radius:6px}.verdict.ok{background:#e3f3e5;color:#1b5e20}.verdict.ko{background:#fde7e7;color:#b71c1c}
.at830{font-size:1.1rem;border-left:4px solid #1b5fa8;padding:.4rem .8rem;background:#eef4fb}
figure{margin:1rem 0}figcaption{font-weight:bold;margin-bottom:.3rem}.chart{width:100%;height:auto;background:#fff;border:1px solid #ddd}
.legend{font-size:.9rem}.key{margin-right:1rem;white-space:nowrap}.swatch{display:inline-block;width:.9rem;height:.9rem;margin-right:.3rem;vertical-align:middle}
</style>
</head>
<body>
<main>
<h1>Exercice du matin — le Préau a-t-il tenu ?</h1>
<p>Lancé le ${esc(new Date(r.startedAt).toLocaleString('fr-FR', { timeZone: 'Europe/Paris' }))} (heure de Paris) : ${r.options.schools} établissement(s) × ${r.options.classes} classes × ${r.options.pupils} élèves, soit ${r.population.pupils} élèves, ${r.population.parents} parents et ${r.population.teachers} enseignants (${r.population.visits} visites, dont ${r.population.firstTime} premières connexions). Échauffement ${r.options.warmupS} s (07:30–08:00), pointe ${r.options.durationS} s (08:00–08:45), ${r.options.rememberedPercent} % des élèves et parents avec une session mémorisée, graine ${r.options.seed}. Préau ${esc(sideLabel(r))}${r.attack ? ', sous attaque de 08:00 à 08:45' : ''}${r.fault ? `, panne : ${esc(faultLabel(r.fault))}` : ''}.</p>
${b ? `${comparison(r, b)}\n<h2>Le matin avec les protections de bordure${r.edge.crisis ? ' (mode crise)' : ''}</h2>\n${runSections(r, 3)}\n<h2>Le même matin sans protections de bordure (référence)</h2>\n${runSections(b, 3)}` : runSections(r, 2)}
</main>
</body>
</html>
`;
}

function runSummary(r: DrillRunReport, lines: string[]): void {
  for (const v of r.verdicts) lines.push(`  ${v.ok ? '✔ TENU    ' : '✘ NON TENU'}  ${v.goal}`, `              seuil : ${v.threshold} · mesuré : ${v.measured}`);
  lines.push('', `  ${r.at830.sentence}`);
  lines.push(`  Connexions : ${r.signIns.remembered} mémorisées, ${r.signIns.password} par mot de passe, ${r.signIns.activation} premières ; ${r.signIns.queued} en salle d’attente${r.queueWaits.n > 0 ? ` (attente p95 ${ms(r.queueWaits.p95)})` : ''}, ${r.signIns.challenged} défiées, ${r.signIns.failed} échouées.`);
  const refusals = refusalTotals(r.seconds);
  if (refusals.length > 0) lines.push(`  Refus : ${refusals.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  if (r.fault?.kind === 'restart') lines.push(`  Panne : Préau tué (SIGKILL) à ${r.fault.at}, de nouveau prêt après ${ms(r.fault.readyAfterMs ?? 0)}.`);
  else if (r.fault?.failover) {
    const o = r.fault.failover;
    const s = (x: number | null) => (x === null ? 'jamais' : `${(x / 1000).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} s`);
    lines.push(`  Panne : ${faultLabel(r.fault)} ; site B primaire après ${s(o.newPrimaryAfterMs)} ; écritures de nouveau acquittées après ${s(o.writesBackAfterMs)} ; fenêtre de lecture seule ${s(o.readOnlyWindowMs)} (${o.readOnlyAnswers} refus « lecture seule », ${o.otherFailures} autres échecs, ${o.stuckAnswers} « clé en cours »).`);
  }
  if (r.attack) {
    const a = r.attack;
    const line = (label: string, st: AttackSummary['flood']) => `  Attaque, ${label} : ${st.sent.toLocaleString('fr-FR')} essais — ${ATTACK_OUTCOMES.filter((o) => st.outcomes[o] > 0).map((o) => `${o} ${st.outcomes[o].toLocaleString('fr-FR')}`).join(', ') || 'aucune réponse'}`;
    lines.push(line('inondation', a.flood), line('bourrage d’identifiants', a.stuffing));
    lines.push(`  Connexions lentes : en-têtes ${a.slowHeaders.cutByServer}/${a.slowHeaders.opened} coupées${a.slowReadsSkipped ? '' : `, lectures ${a.slowReads.cutByServer}/${a.slowReads.opened} coupées`} (observées ${a.slowWatchS} s)`);
  }
  for (const m of [...r.check.missing, ...r.check.duplicated].slice(0, 20)) lines.push(`  ! ${m.kind} ${m.id} (${m.login}) : ${m.why}`);
}

export function terminalSummary(r: DrillReport): string {
  const lines = ['', `Exercice du matin — verdicts (Préau ${sideLabel(r)})`, ''];
  runSummary(r, lines);
  if (r.baseline) {
    lines.push('', `Le même matin — Préau ${sideLabel(r.baseline)}`, '');
    runSummary(r.baseline, lines);
  }
  lines.push('', r.ok ? '  Résultat : tous les objectifs sont tenus.' : '  Résultat : au moins un objectif n’est pas tenu.', '');
  return lines.join('\n');
}
