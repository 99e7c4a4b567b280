/**
 * `preau drill` / `npm run drill`: the crisis-morning rehearsal. Starts its own Préau (SQLite in a
 * temporary directory, pinned to one CPU), prepares the evening before (drill-server.ts), plans the
 * morning (scenario.ts), plays it from a load generator pinned to the other CPU (drill-load.ts)
 * while sampling the server (CPU, memory, waiting room), stops the server, looks for every
 * acknowledged write in the store (checker.ts) and writes the report (report.ts). Bounded: every
 * phase has a duration, the whole drill a deadline; it stops by itself.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { PG_URL } from '../../test/support/backends.js';
import { LOAD_CPU, REPO_ROOT, SERVER_CPU, startPinned, type BenchChild } from '../../bench/support/proc.js';
import { cpuTimeMs } from '../../bench/support/run-load.js';
import type { FloodResultMessage } from '../../bench/support/protocol.js';
import { COUNTRY_TABLE, DEFAULT_ATTACK, MAX_ATTACK, planAttack, summariseAttack, type AttackOptions, type AttackSummary } from './attack.js';
import { ConfigError, loadConfig, type Config } from '../../src/config/config.js';
import { checkAcknowledged } from './checker.js';
import { isLoopback } from './client.js';
import { cleanTarget, prepareTarget, readTargetRoster, type PrepareTargetOptions } from './target.js';
import type { LoadMessage, LoadResult, LoadSpec } from './protocol.js';
import { buildReport, renderHtml, terminalSummary, type DrillReport, type DrillRunReport, type FaultRecord, type ServerSample } from './report.js';
import { DRILL_NEW_PASSWORD, type Roster } from './roster.js';
import { drillMsAt, PHASE_LABELS, planScenario, simulatedClock } from './scenario.js';
import { faultFigures, failoverRecord, FAULT_KINDS, isSitesFault, type FaultKind } from './fault.js';
import { cleanSitesMorning, MORNING_LAYOUT, startSitesMorning, type SitesMorning } from './sites-morning.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export const DRILL_HELP = `preau drill — l’exercice du matin de crise

Démarre son propre Préau (SQLite dans un dossier temporaire), crée une académie (flux AAF généré
puis importé par l’importateur réel), prépare la veille (emploi du temps, travail publié), puis joue
le matin : 07:30 échauffement (les enseignants publient et corrigent), 08:00→08:45 montée et pointe
(élèves et parents : Aujourd’hui, cahier de textes, document, rendu ; enseignants : leurs classes).
À la fin, chaque écriture acquittée est recherchée dans la base, et un rapport dit si le matin a tenu.

Utilisation : npm run drill -- [options]      ou   npm run preau -- drill [options]

Options :
  --schools N      établissements (défaut 2, 1 à 20)
  --classes N      classes par établissement (défaut 4, 1 à 40)
  --pupils N       élèves par classe (défaut 25, 1 à 40) ; parents et enseignants en découlent
  --duration S     durée réelle de la pointe 08:00–08:45, en secondes (défaut 60, 5 à 900)
  --warmup S       durée réelle de l’échauffement 07:30–08:00 (défaut : un quart de la pointe, 3 à 120)
  --remembered P   part (en %) des élèves et parents dont le téléphone garde une session (défaut 80) ;
                   0 rejoue un matin où chacun retape son mot de passe (sessions raccourcies)
  --seed N         graine du scénario et de l’académie (défaut 1) : même graine, même matin
  --attack         ajoute l’attaque de 08:00 à 08:45 : inondation de mots de passe depuis l’étranger,
                   bourrage d’identifiants d’élèves réels depuis des milliers d’adresses (la moitié en
                   France), connexions lentes (en-têtes et lectures) ; le mode crise est activé
  --attack-flood N essais de mot de passe par seconde depuis l’étranger (défaut 300, 1 à 5000)
  --attack-stuffing N
                   essais de bourrage d’identifiants par seconde (défaut 30, 1 à 1000)
  --attack-slow N  connexions aux en-têtes lents (défaut 400, 0 à 5000 ; lectures lentes : un quart)
  --crisis on|off  mode crise pendant l’exercice (défaut : on avec --attack, off sinon)
  --database sqlite|postgres
                   le stockage du Préau de l’exercice (défaut sqlite : un fichier) ; postgres : un schéma
                   neuf du PostgreSQL local (PREAU_DRILL_PG_URL, défaut celui des tests), retiré à la fin ;
                   les écritures acquittées sont alors vérifiées par l’API
  --fault restart  à l’heure --fault-at, le Préau est tué brutalement (SIGKILL) puis relancé sur la
                   même base et le même port : les clients réessaient, rien d’acquitté ne doit manquer
  --fault primary  le matin se joue sur deux sites (espaces de noms réseau pm*, 10.78.0.0/16 : etcd,
                   Patroni + PostgreSQL synchrone, un nœud Préau par site derrière un HAProxy frontal
                   sur 127.0.0.1) ; à --fault-at, la base primaire du site A est arrêtée (Patroni et
                   PostgreSQL tués), les nœuds Préau restent : lecture seule, puis bascule vers B
  --fault site     la même chose, mais tout le site A est coupé (ses processus tués, son lien coupé) :
                   ses clients passent par le répartiteur vers le site B. Ces deux pannes demandent
                   root, les paquets patroni, etcd-server, haproxy et PostgreSQL 15
  --fault-at HH:MM heure simulée de la panne, de 07:30 à 08:45 (défaut 08:30)
  --clean          supprime ce qu’un exercice à deux sites interrompu a laissé (espaces de noms pm*
                   seulement) et sort
  --compare-baseline
                   rejoue le même matin contre le même Préau, protections de bordure coupées, et met
                   les deux côte à côte dans le rapport (le code de sortie reste celui du premier)
  --out DOSSIER    où écrire rapport.json et rapport.html (défaut ./exercice-<date>)
  --keep           garde le dossier temporaire du Préau de l’exercice (base, fichiers)
  --help           cette aide

Contre un déploiement qui vous appartient (trois temps) :
  --prepare-target --roster FICHIER --yes-i-own-this-target
                   sur le serveur du déploiement (sa configuration : DATABASE_URL…) : importe une
                   académie d’exercice (jointures « EXERCICE-PREAU- », UAI 999…, mot de passe tiré au
                   hasard) et écrit le fichier de l’exercice (droits 0600) ; --schools, --classes,
                   --pupils, --seed en règlent la taille
  --target URL --roster FICHIER --yes-i-own-this-target
                   joue le matin contre URL depuis n’importe quelle machine ; les écritures acquittées
                   sont vérifiées par l’API ; pas de panne ni de référence, l’attaque seulement contre
                   un Préau de cette machine (127.0.0.1)
  --clean-target --roster FICHIER --yes-i-own-this-target
                   sur le serveur du déploiement : retire l’académie d’exercice

Code de sortie : 0 si tous les objectifs sont tenus, 1 sinon, 64 pour une option invalide,
78 pour une cible refusée ou une configuration invalide.
`;

export class DrillUsageError extends Error {
  constructor(
    message: string,
    readonly exitCode: 64 | 78,
  ) {
    super(message);
  }
}

export interface DrillOptions {
  schools: number;
  classes: number;
  pupils: number;
  durationS: number;
  warmupS: number;
  seed: number;
  /** Pupils and parents whose phone remembers a session, in %. */
  rememberedPercent: number;
  out: string;
  keep: boolean;
  /** Activation codes instead of passwords for this many pupils (first-time sign-ins). */
  firstTime: number;
  /** Visits still running after the peak get this long. */
  drainS: number;
  /** The attack overlay, when asked for. */
  attack: AttackOptions | null;
  /** Crisis mode switched on (as the operator does on the morning of an attack). */
  crisis: boolean;
  /** Play the same morning again with the edge off, side by side in the report. */
  compareBaseline: boolean;
  /**
   * The fault overlay at a simulated time: `restart` kills the drill's own Préau (SIGKILL) and starts
   * it again; `primary` and `site` play the morning on the two-site layout (sites-morning.ts) and stop
   * site A's database primary, or cut site A.
   */
  fault: { kind: FaultKind; at: string } | null;
  /** A deployment to play against instead of the drill's own Préau, with the roster `--prepare-target` wrote there. */
  target: { origin: string; rosterFile: string } | null;
  /** The drill's own Préau on its SQLite file, or on a fresh schema of a PostgreSQL. */
  database: 'sqlite' | 'postgres';
}

/** `--clean`: removes what a killed two-site morning left (its own `pm*` names only). */
export interface CleanCommand {
  command: 'clean';
}

/** The steps of the drill on a deployment that write into its store (target.ts). */
export interface TargetCommand {
  command: 'prepare-target' | 'clean-target';
  rosterFile: string;
  prepare: PrepareTargetOptions;
}

function int(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new DrillUsageError(`--${name} attend un entier de ${min} à ${max} (reçu « ${raw} »).`, 64);
  return n;
}

/** The command line as options; refuses (DrillUsageError) what it cannot honour. `help` when asked. */
export function parseDrillArgs(argv: string[], now = new Date()): DrillOptions | TargetCommand | CleanCommand | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        schools: { type: 'string' }, classes: { type: 'string' }, pupils: { type: 'string' }, duration: { type: 'string' }, warmup: { type: 'string' }, remembered: { type: 'string' },
        seed: { type: 'string' }, out: { type: 'string' }, target: { type: 'string' }, 'yes-i-own-this-target': { type: 'boolean' }, keep: { type: 'boolean' }, help: { type: 'boolean' },
        roster: { type: 'string' }, 'prepare-target': { type: 'boolean' }, 'clean-target': { type: 'boolean' },
        attack: { type: 'boolean' }, 'attack-flood': { type: 'string' }, 'attack-stuffing': { type: 'string' }, 'attack-slow': { type: 'string' }, crisis: { type: 'string' }, 'compare-baseline': { type: 'boolean' }, fault: { type: 'string' }, 'fault-at': { type: 'string' }, database: { type: 'string' }, clean: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new DrillUsageError(`Option invalide : ${err instanceof Error ? err.message : String(err)}\nVoir : npm run drill -- --help`, 64);
  }
  if (values.help) return 'help';
  if (values.clean) {
    const others = Object.keys(values).filter((k) => k !== 'clean' && values[k] !== undefined);
    if (others.length > 0) throw new DrillUsageError(`--clean s’utilise seul (reçu aussi --${others[0]}).`, 64);
    return { command: 'clean' };
  }
  const durationS = int('duration', values.duration as string | undefined, 60, 5, 900);
  const rosterFile = typeof values.roster === 'string' ? path.resolve(values.roster) : undefined;
  const owned = values['yes-i-own-this-target'] === true;
  const scale = {
    schools: int('schools', values.schools as string | undefined, 2, 1, 20),
    classes: int('classes', values.classes as string | undefined, 4, 1, 40),
    pupils: int('pupils', values.pupils as string | undefined, 25, 1, 40),
    seed: int('seed', values.seed as string | undefined, 1, 0, 2 ** 31 - 1),
  };
  for (const step of ['prepare-target', 'clean-target'] as const) {
    if (!values[step]) continue;
    if (!owned) throw new DrillUsageError(`--${step} écrit dans la base du déploiement configuré (DATABASE_URL) : ajoutez --yes-i-own-this-target si ce déploiement vous appartient.`, 64);
    if (!rosterFile) throw new DrillUsageError(`--${step} demande --roster FICHIER (le fichier de l’exercice${step === 'prepare-target' ? ' à écrire' : ' écrit par --prepare-target'}).`, 64);
    return { command: step, rosterFile, prepare: { rosterFile, ...scale, activations: 4 } };
  }
  if (rosterFile && typeof values.target !== 'string') throw new DrillUsageError('--roster sert avec --target, --prepare-target ou --clean-target : sans eux, l’exercice prépare sa propre académie.', 64);
  let target: DrillOptions['target'] = null;
  if (typeof values.target === 'string') {
    if (!owned) {
      throw new DrillUsageError(
        `L’exercice n’envoie aucune charge vers « ${values.target} » sans --yes-i-own-this-target : une charge de matin de crise contre un service qui n’est pas le vôtre est une attaque. Ajoutez --yes-i-own-this-target si cette cible vous appartient.`,
        64,
      );
    }
    let url: URL;
    try {
      url = new URL(values.target);
    } catch {
      throw new DrillUsageError(`--target attend une adresse http(s)://hôte[:port] (reçu « ${values.target} »).`, 64);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search || url.hash || url.username) throw new DrillUsageError(`--target attend une adresse http(s)://hôte[:port], sans chemin ni identifiants (reçu « ${values.target} »).`, 64);
    if (!rosterFile) throw new DrillUsageError('--target demande --roster FICHIER, écrit par « preau drill --prepare-target » sur le déploiement.', 64);
    if (values.fault !== undefined || values['compare-baseline']) throw new DrillUsageError('La panne et la référence ne se jouent que contre le Préau de l’exercice (sans --target) : l’exercice ne peut ni tuer ni reconfigurer un déploiement.', 64);
    if (values.attack && !isLoopback(url.hostname)) throw new DrillUsageError('L’attaque vient d’adresses de 127.0.0.0/8 : elle ne se joue que contre un Préau sur cette machine (--target http://127.0.0.1:PORT).', 78);
    target = { origin: url.origin, rosterFile };
  }
  const attackTuned = ['attack-flood', 'attack-stuffing', 'attack-slow'].filter((k) => values[k] !== undefined);
  if (!values.attack && attackTuned.length > 0) throw new DrillUsageError(`--${attackTuned[0]} règle l’attaque : ajoutez --attack.`, 64);
  const slow = int('attack-slow', values['attack-slow'] as string | undefined, DEFAULT_ATTACK.slowHeaders, 0, MAX_ATTACK.slowHeaders);
  const attack: AttackOptions | null = values.attack
    ? {
        floodRatePerS: int('attack-flood', values['attack-flood'] as string | undefined, DEFAULT_ATTACK.floodRatePerS, 1, MAX_ATTACK.floodRatePerS),
        stuffingRatePerS: int('attack-stuffing', values['attack-stuffing'] as string | undefined, DEFAULT_ATTACK.stuffingRatePerS, 1, MAX_ATTACK.stuffingRatePerS),
        stuffingAddresses: DEFAULT_ATTACK.stuffingAddresses,
        slowHeaders: slow,
        slowReads: Math.floor(slow / 4),
      }
    : null;
  const faultRaw = values.fault as string | undefined;
  const faultAt = (values['fault-at'] as string | undefined) ?? '08:30';
  if (faultRaw !== undefined && !(FAULT_KINDS as readonly string[]).includes(faultRaw)) throw new DrillUsageError(`--fault attend ${FAULT_KINDS.join(', ')} (reçu « ${faultRaw} »).`, 64);
  if (values['fault-at'] !== undefined && faultRaw === undefined) throw new DrillUsageError('--fault-at règle la panne : ajoutez --fault restart, primary ou site.', 64);
  const faultKind = faultRaw as FaultKind | undefined;
  if (faultKind && isSitesFault(faultKind)) {
    // The two-site morning is one morning on PostgreSQL via Patroni; what it does not play is refused, not ignored.
    if (values['compare-baseline']) throw new DrillUsageError(`--fault ${faultKind} ne se joue pas avec --compare-baseline (la référence sans protections n’est jouée que sur le Préau de l’exercice).`, 64);
    if (values.attack) throw new DrillUsageError(`--fault ${faultKind} ne se joue pas encore avec --attack (l’attaque passerait par le répartiteur frontal : non essayé).`, 64);
    if (values.database !== undefined && values.database !== 'postgres') throw new DrillUsageError(`--fault ${faultKind} joue le matin sur PostgreSQL (Patroni) : --database ${String(values.database)} n’a pas de sens ici.`, 64);
  }
  if (drillMsAt(faultAt, { warmupS: 1, peakS: 1 }) === undefined) throw new DrillUsageError(`--fault-at attend une heure simulée de 07:30 à 08:45 (reçu « ${faultAt} »).`, 64);
  const databaseRaw = (values.database as string | undefined) ?? 'sqlite';
  if (databaseRaw !== 'sqlite' && databaseRaw !== 'postgres') throw new DrillUsageError(`--database attend sqlite ou postgres (reçu « ${databaseRaw} »).`, 64);
  if (values.database !== undefined && target) throw new DrillUsageError('--database règle le Préau de l’exercice : un déploiement (--target) a sa propre base.', 64);
  const crisisRaw = values.crisis as string | undefined;
  if (crisisRaw !== undefined && crisisRaw !== 'on' && crisisRaw !== 'off') throw new DrillUsageError(`--crisis attend on ou off (reçu « ${crisisRaw} »).`, 64);
  const stamp = now.toISOString().slice(0, 19).replace(/[:T]/g, '-');
  return {
    ...scale,
    durationS,
    warmupS: int('warmup', values.warmup as string | undefined, Math.min(120, Math.max(3, Math.round(durationS / 4))), 3, 120),
    rememberedPercent: int('remembered', values.remembered as string | undefined, 80, 0, 100),
    out: path.resolve((values.out as string | undefined) ?? `exercice-${stamp}`),
    keep: values.keep === true,
    firstTime: 4,
    drainS: 20,
    attack,
    crisis: crisisRaw === undefined ? attack !== null : crisisRaw === 'on',
    compareBaseline: values['compare-baseline'] === true,
    fault: faultKind ? { kind: faultKind, at: faultAt } : null,
    target,
    database: faultKind && isSitesFault(faultKind) ? 'postgres' : databaseRaw,
  };
}

/** Server CPU (% of one core) and resident memory, from /proc; waiting-room length from /metrics. */
function serverSampler(pidOf: () => number | undefined, origin: string, t0Ms: () => number): { samples: ServerSample[]; stop: () => void } {
  const samples: ServerSample[] = [];
  let pid = pidOf();
  let lastCpu = cpuTimeMs(pid);
  let lastAt = Date.now();
  const rssMb = (): number | null => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : null;
    } catch {
      return null;
    }
  };
  const timer = setInterval(() => {
    const now = Date.now();
    if (pidOf() !== pid) {
      // Started again (the fault overlay): the new process's CPU counts from now.
      pid = pidOf();
      lastCpu = undefined;
    }
    const cpu = cpuTimeMs(pid);
    const cpuPercent = cpu !== undefined && lastCpu !== undefined ? ((cpu - lastCpu) / (now - lastAt)) * 100 : null;
    lastCpu = cpu;
    lastAt = now;
    const sample: ServerSample = { sec: Math.floor((now - t0Ms()) / 1000), cpuPercent, rssMb: rssMb(), waitingRoom: null };
    samples.push(sample);
    fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(900) })
      .then((r) => r.text())
      .then((text) => {
        const m = /^preau_waiting_room_waiting(?:\{[^}]*\})? (\d+(?:\.\d+)?)$/m.exec(text);
        if (m) sample.waitingRoom = Number(m[1]);
      })
      .catch(() => undefined);
  }, 1000);
  return { samples, stop: () => clearInterval(timer) };
}

/** Live progress: a redrawn line on a terminal, a plain line every 5 s otherwise. */
function progressPrinter(out: NodeJS.WriteStream, timing: { warmupS: number; peakS: number }): { tick: (m: Extract<LoadMessage, { type: 'tick' }>) => void; end: () => void } {
  const tty = out.isTTY === true;
  let ok = 0;
  let failed = 0;
  let lastPlain = -5;
  return {
    tick(m) {
      ok += m.actionsOk;
      failed += m.actionsFailed;
      const rate = ok + failed > 0 ? `${((ok / (ok + failed)) * 100).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} %` : '—';
      const line = `  ${simulatedClock(m.sec * 1000, timing)} ${PHASE_LABELS[m.phase].slice(6).padEnd(12)} ${m.sec + 1}/${m.totalS} s · offert ${m.offered} req/s · servi ${m.served} · succès ${rate} · p95 élèves ${Math.round(m.pupilP95)} ms · salle d’attente ${m.waitingClients} · visites ${m.activeVisits}`;
      if (tty) out.write(`\r\x1b[2K${line}`);
      else if (m.sec - lastPlain >= 5) {
        lastPlain = m.sec;
        out.write(`${line}\n`);
      }
    },
    end() {
      if (tty) out.write('\r\x1b[2K');
    },
  };
}

export interface DrillRun {
  report: DrillReport;
  jsonFile: string;
  htmlFile: string;
}

/** Which Préau a morning is played against: the drill's own, the same with its edge off (baseline), or a deployment. */
type Side = 'edge' | 'baseline' | 'target';

/** One morning, start to end, against a fresh Préau of its own: the evening before, the morning (and the attack), the check. */
async function runMorning(o: DrillOptions, side: Side, out: NodeJS.WriteStream): Promise<DrillRunReport> {
  const startedAt = new Date();
  const work = mkdtempSync(path.join(tmpdir(), 'preau-exercice-'));
  const say = (s: string) => out.write(`  · ${s}\n`);
  let server: BenchChild | undefined;
  let load: BenchChild | undefined;
  let attacker: BenchChild | undefined;
  let attackTimer: NodeJS.Timeout | undefined;
  let faultTimer: NodeJS.Timeout | undefined;
  let dropSchema: (() => Promise<void>) | undefined;
  /** `--fault primary|site`: the morning is played on the two-site layout instead of the drill's own Préau. */
  let sites: SitesMorning | undefined;
  const onSites = o.fault !== null && isSitesFault(o.fault.kind);
  let faultDone: Promise<FaultRecord | null> = Promise.resolve(null);
  // The whole morning's deadline: setup, the morning, the drain, the check; then everything is stopped.
  const deadline = setTimeout(() => {
    out.write('\nL’exercice dépasse son délai maximal : arrêt.\n');
    void attacker?.stop(1_000);
    void load?.stop(1_000);
    void server?.stop(1_000);
    void sites?.destroy();
  }, (300 + (onSites ? 420 : 0) + o.warmupS + o.durationS + o.drainS + 60) * 1000);
  const edgeOn = side !== 'baseline';

  /** The morning itself: the load generator (and the attack from 08:00), the server sampled each second. */
  const playMorning = async (spec: LoadSpec, roster: Roster, pidOf: () => number | undefined, onStarted: (t0: number, scenario: LoadSpec['scenario']) => void = () => undefined) => {
    const specFile = path.join(work, 'spec.json');
    writeFileSync(specFile, JSON.stringify(spec));
    const { scenario } = spec;
    const attackSpec = o.attack ? planAttack(roster, o.attack, spec.origin, o.durationS) : undefined;
    let attackResult: Promise<FloodResultMessage | undefined> = Promise.resolve(undefined);
    load = startPinned(LOAD_CPU, path.join(HERE, 'drill-load.ts'), [specFile]);
    let t0 = Date.now();
    let sampler: ReturnType<typeof serverSampler> | undefined;
    const progress = progressPrinter(out, scenario);
    load.onMessage((raw) => {
      const m = raw as unknown as LoadMessage;
      if (m.type === 'started') {
        t0 = m.t0Ms;
        sampler = serverSampler(pidOf, spec.origin, () => t0);
        onStarted(t0, scenario);
        if (attackSpec) {
          // 08:00: the attack begins with the ramp and lasts until 08:45.
          attackTimer = setTimeout(() => {
            const attackFile = path.join(work, 'attack.json');
            writeFileSync(attackFile, JSON.stringify(attackSpec));
            attacker = startPinned(LOAD_CPU, path.join(REPO_ROOT, 'bench', 'support', 'flood-load.ts'), [attackFile]);
            attackResult = attacker.next('flood-result', (Math.max(attackSpec.durationS, attackSpec.slowWatchS) + 60) * 1000).then(
              (r) => r,
              (err: unknown) => {
                out.write(`\n  ! le générateur de l’attaque s’est arrêté : ${err instanceof Error ? err.message : String(err)}\n`);
                return undefined;
              },
            );
          }, Math.max(0, t0 + o.warmupS * 1000 - Date.now()));
        }
      } else if (m.type === 'tick') progress.tick(m);
    });
    const code = await load.exited;
    progress.end();
    if (code !== 0) throw new Error(`le générateur de charge s’est arrêté en erreur (code ${code})`);
    if (attackSpec) say('fin de l’attaque : les dernières connexions lentes sont observées');
    const attackMessage = await attackResult;
    sampler?.stop();
    const result = JSON.parse(readFileSync(spec.resultFile, 'utf8')) as LoadResult;
    let attack: AttackSummary | null = null;
    if (o.attack && attackSpec) {
      if (!attackMessage) throw new Error('l’attaque demandée n’a pas eu lieu (générateur arrêté) : le rapport ne peut pas en parler');
      attack = summariseAttack(o.attack, o.warmupS, attackSpec, attackMessage);
    }
    return { result, samples: sampler?.samples ?? [], attack };
  };

  /** A deployment: its roster, its address, its API to check the writes. */
  const playTarget = async (): Promise<DrillRunReport> => {
    const target = o.target!;
    const roster = readTargetRoster(target.rosterFile);
    const scenario = planScenario(roster, { warmupS: o.warmupS, peakS: o.durationS, seed: o.seed, rememberedShare: o.rememberedPercent / 100 });
    const population = populationOf(roster, scenario);
    const bindLocal = isLoopback(new URL(target.origin).hostname);
    say(`contre le déploiement ${target.origin} : ${population.pupils} élèves, ${population.parents} parents, ${population.teachers} enseignants de l’académie de l’exercice, ${population.visits} visites${bindLocal ? ' depuis autant d’adresses de 127.0.0.0/8' : ' depuis l’adresse de cette machine (les limites par adresse du déploiement s’appliquent à tout l’exercice)'}`);
    const spec: LoadSpec = { origin: target.origin, bindLocal, checkThroughApi: true, clockOffsetMs: roster.clockOffsetMs, scenario, password: roster.password, newPassword: DRILL_NEW_PASSWORD, drainS: o.drainS, resultFile: path.join(work, 'result.json') };
    const { result, samples, attack } = await playMorning(spec, roster, () => undefined);
    const check = result.apiCheck;
    if (!check) throw new Error('le générateur n’a pas rendu la vérification par l’API');
    say('chaque écriture acquittée a été redemandée à l’API du déploiement, par la personne qui l’a faite');
    return buildReport({ startedAt, options: reportOptions(o), edge: { on: true, crisis: false }, target: target.origin, population, load: result, server: samples, check, attack, fault: null });
  };

  try {
    if (side === 'target') return await playTarget();
    const postgres = o.database === 'postgres' && !onSites ? await createDrillSchema() : undefined;
    dropSchema = postgres?.drop;
    const store = onSites ? `deux sites (PostgreSQL via Patroni, espaces de noms ${MORNING_LAYOUT.prefix}*)` : postgres ? `PostgreSQL (schéma ${postgres.schema})` : 'SQLite';
    say(`la veille : Préau sur ${store} (CPU ${SERVER_CPU}), ${edgeOn ? `protections de bordure actives${o.crisis ? ', mode crise' : ''}` : 'SANS protections de bordure (référence)'}, académie de ${o.schools} × ${o.classes} classes × ${o.pupils} élèves (flux AAF généré, importé), emploi du temps et travail publié`);
    const serverDir = path.join(work, 'preau');
    mkdirSync(serverDir);
    const academyArgs = [
      '--schools', String(o.schools), '--classes', String(o.classes), '--pupils', String(o.pupils), '--activations', String(o.firstTime), '--seed', String(o.seed),
      '--edge', edgeOn ? 'on' : 'off', '--crisis', edgeOn && o.crisis ? 'on' : 'off', '--countries', COUNTRY_TABLE,
    ];
    const serverArgs = ['--dir', serverDir, ...academyArgs, ...(postgres ? ['--postgres-url', postgres.url, '--pg-schema', postgres.schema] : [])];
    let origin: string;
    let roster: Roster;
    let port = 0;
    if (onSites) {
      sites = await startSitesMorning({ work, academyArgs, keep: o.keep, say });
      origin = sites.origin;
      roster = sites.roster;
    } else {
      server = startPinned(SERVER_CPU, path.join(HERE, 'drill-server.ts'), serverArgs);
      ({ port } = await server.next('ready', 300_000));
      origin = `http://127.0.0.1:${port}`;
      roster = JSON.parse(readFileSync(path.join(serverDir, 'roster.json'), 'utf8')) as Roster;
    }
    const scenario = planScenario(roster, { warmupS: o.warmupS, peakS: o.durationS, seed: o.seed, rememberedShare: o.rememberedPercent / 100 });
    const population = populationOf(roster, scenario);
    say(`le matin : ${population.pupils} élèves, ${population.parents} parents, ${population.teachers} enseignants, ${population.visits} visites depuis autant d’adresses de 127.0.0.0/8 (générateur sur le CPU ${LOAD_CPU}) ; d’abord les connexions mémorisées de la veille`);

    /** The fault overlay: kill the Préau without warning, start it again on the same store and port, time it. */
    const restart = async (faultMs: number): Promise<FaultRecord | null> => {
      const first = server;
      if (!first) return null;
      const killedAt = Date.now();
      out.write(`\n  · panne : le Préau est tué (SIGKILL) à ${simulatedClock(faultMs, scenario)}, puis relancé\n`);
      first.process.kill('SIGKILL');
      await first.exited;
      const again = startPinned(SERVER_CPU, path.join(HERE, 'drill-server.ts'), [...serverArgs, '--resume', '--port', String(port)]);
      server = again;
      await again.next('ready', 60_000);
      return { kind: 'restart', at: o.fault!.at, atSec: Math.floor(faultMs / 1000), readyAfterMs: Date.now() - killedAt };
    };
    /** The fault overlay on two sites: site A's database primary stopped, or site A cut; the clients' figures come after the morning. */
    let faultAtMs: number | undefined;
    const siteFault = async (faultMs: number, kind: 'primary' | 'site'): Promise<FaultRecord | null> => {
      if (!sites) return null;
      faultAtMs = Date.now();
      out.write(`\n  · panne à ${simulatedClock(faultMs, scenario)} : ${kind === 'primary' ? 'la base primaire du site A est arrêtée (Patroni et PostgreSQL tués ; les nœuds Préau restent)' : 'le site A est coupé (tous ses processus tués, son lien coupé)'}\n`);
      const r = await sites.fault(kind);
      out.write(`\n  · ${r.newPrimaryAfterMs === null ? 'le site B n’est pas devenu primaire' : `le site B est primaire ${(r.newPrimaryAfterMs / 1000).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} s après la panne`} (${r.killed} processus tués)\n`);
      return {
        kind, at: o.fault!.at, atSec: Math.floor(faultMs / 1000),
        failover: failoverRecord(faultFigures([], faultAtMs), `${MORNING_LAYOUT.prefix}* ${MORNING_LAYOUT.cidr}`, r.killed, r.newPrimaryAfterMs, null),
      };
    };
    const spec: LoadSpec = { origin, bindLocal: true, checkThroughApi: postgres !== undefined || onSites, clockOffsetMs: roster.clockOffsetMs, scenario, password: roster.password, newPassword: DRILL_NEW_PASSWORD, drainS: o.drainS, resultFile: path.join(work, 'result.json') };
    const { result, samples, attack } = await playMorning(spec, roster, () => (sites ? sites.pidOf() : server?.process.pid), (t0) => {
      const f = o.fault;
      if (!f) return;
      const faultMs = drillMsAt(f.at, scenario)!;
      faultTimer = setTimeout(() => {
        faultDone = isSitesFault(f.kind) ? siteFault(faultMs, f.kind) : restart(faultMs);
      }, Math.max(0, t0 + faultMs - Date.now()));
    });
    let fault = await faultDone;
    if (fault?.failover && faultAtMs !== undefined && sites) {
      // What the clients saw, from every write they sent after the fault; and who leads the database now.
      const f = fault.failover;
      fault = { ...fault, failover: failoverRecord(faultFigures(result.writes ?? [], faultAtMs), f.layout, f.killed, f.newPrimaryAfterMs, await sites.leader()) };
    }

    let check;
    if (postgres || onSites) {
      // The generator asked the API for every acknowledged write, as its author, before stopping.
      if (!result.apiCheck) throw new Error('le générateur n’a pas rendu la vérification par l’API');
      check = result.apiCheck;
      say(`chaque écriture acquittée a été redemandée à l’API${onSites ? ' (par le répartiteur, après la panne)' : ''}, par la personne qui l’a faite ; arrêt du Préau`);
      await server?.stop();
    } else {
      say('arrêt du Préau, puis recherche de chaque écriture acquittée dans la base (lecture seule) et sur le disque');
      await server?.stop();
      check = checkAcknowledged(serverDir, result.acknowledged);
    }
    const report = buildReport({
      startedAt, options: reportOptions(o), edge: edgeOn ? { on: true, crisis: o.crisis } : { on: false, crisis: false }, target: null, population, load: result, server: samples, check, attack, fault,
    });
    if (o.keep) out.write(`  Dossier du Préau de l’exercice gardé : ${serverDir}\n`);
    return report;
  } finally {
    clearTimeout(deadline);
    clearTimeout(attackTimer);
    clearTimeout(faultTimer);
    await attacker?.stop(2_000);
    await load?.stop(2_000);
    await server?.stop(5_000);
    await sites?.destroy();
    if (!o.keep) await dropSchema?.().catch((err: unknown) => out.write(`  ! schéma PostgreSQL de l’exercice non retiré : ${String(err)}\n`));
    if (!o.keep) rmSync(work, { recursive: true, force: true });
  }
}

const reportOptions = (o: DrillOptions): DrillRunReport['options'] => ({ schools: o.schools, classes: o.classes, pupils: o.pupils, durationS: o.durationS, warmupS: o.warmupS, seed: o.seed, rememberedPercent: o.rememberedPercent, ...(o.target ? {} : { database: o.database }) });

/** `--database postgres`: a fresh schema of the local PostgreSQL for the drill's own Préau, and its removal. */
async function createDrillSchema(): Promise<{ url: string; schema: string; drop: () => Promise<void> }> {
  const url = process.env.PREAU_DRILL_PG_URL ?? PG_URL;
  const schema = `exercice_${randomBytes(5).toString('hex')}`;
  const run = async (statement: string) => {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    await c.connect();
    try {
      await c.query(statement);
    } finally {
      await c.end();
    }
  };
  try {
    await run(`create schema ${schema}`);
  } catch (err) {
    throw new Error(`PostgreSQL injoignable pour --database postgres (${url.replace(/\/\/[^@/]*@/, '//…@')}) : ${err instanceof Error ? err.message : String(err)}`);
  }
  return { url, schema, drop: () => run(`drop schema if exists ${schema} cascade`) };
}

function populationOf(roster: Roster, scenario: LoadSpec['scenario']): DrillRunReport['population'] {
  const count = (p: string) => roster.people.filter((x) => x.profile === p).length;
  return { pupils: count('eleve'), parents: count('parent'), teachers: count('enseignant'), visits: scenario.visits.length, firstTime: scenario.visits.filter((v) => v.signIn === 'activation').length };
}

export async function runDrill(o: DrillOptions, out: NodeJS.WriteStream = process.stdout): Promise<DrillRun> {
  if (o.compareBaseline) out.write('Premier matin : Préau avec ses protections de bordure.\n');
  const main = await runMorning(o, o.target ? 'target' : 'edge', out);
  let baseline: DrillRunReport | undefined;
  if (o.compareBaseline) {
    out.write('\nSecond matin, le même : Préau SANS ses protections de bordure (référence).\n');
    baseline = await runMorning(o, 'baseline', out);
  }
  const report: DrillReport = { ...main, ...(baseline ? { baseline } : {}) };
  mkdirSync(o.out, { recursive: true });
  const jsonFile = path.join(o.out, 'rapport.json');
  const htmlFile = path.join(o.out, 'rapport.html');
  writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(htmlFile, renderHtml(report));
  out.write(terminalSummary(report));
  out.write(`  Rapport : ${htmlFile}\n  JSON    : ${jsonFile}\n`);
  return { report, jsonFile, htmlFile };
}

/** The command: options, run, exit code (0 all goals held, 1 not, 64/78 refused). */
export async function drillCommand(argv: string[], out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Promise<number> {
  let options: DrillOptions | TargetCommand | CleanCommand | 'help';
  try {
    options = parseDrillArgs(argv);
  } catch (e) {
    if (e instanceof DrillUsageError) {
      err.write(`${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
  if (options === 'help') {
    out.write(DRILL_HELP);
    return 0;
  }
  if ('command' in options && options.command === 'clean') {
    if (process.getuid?.() !== 0) {
      err.write('--clean retire des espaces de noms réseau : il faut être root.\n');
      return 78;
    }
    const removed = cleanSitesMorning();
    out.write(removed.length > 0 ? `Retiré : ${removed.join(', ')}\n` : `Rien à retirer (aucun espace de noms ${MORNING_LAYOUT.prefix}*).\n`);
    return 0;
  }
  if (!('command' in options) && options.fault && isSitesFault(options.fault.kind) && process.getuid?.() !== 0) {
    err.write(`--fault ${options.fault.kind} construit deux sites dans des espaces de noms réseau (ip netns) : il faut être root.\n`);
    return 78;
  }
  if ('command' in options) {
    // The deployment's own configuration (DATABASE_URL…), as `preau import-aaf` reads it.
    let config: Config;
    try {
      config = loadConfig(process.env, []);
    } catch (e) {
      if (e instanceof ConfigError) {
        err.write(`${e.message}\n`);
        return 78;
      }
      throw e;
    }
    if (options.command === 'prepare-target') {
      const roster = await prepareTarget(config, options.prepare);
      out.write(`Académie de l’exercice importée dans ${config.databaseUrl.replace(/\/\/[^@/]*@/, '//…@')} : ${roster.people.length} personnes, ${roster.schoolJointures?.length ?? 0} établissement(s) (UAI 999…, jointures ${roster.schoolJointures?.[0]?.replace(/\d+$/, '')}…).\nFichier de l’exercice (mot de passe et codes d’activation, lisible par vous seul) : ${options.rosterFile}\nEnsuite : npm run drill -- --target URL --roster ${options.rosterFile} --yes-i-own-this-target\n`);
    } else {
      const removed = await cleanTarget(config, options.rosterFile);
      out.write(`Académie de l’exercice retirée : ${removed.people} personne(s), ${removed.schools} établissement(s). Les fichiers qu’elle laisse partent avec le prochain « preau purge ».\n`);
    }
    return 0;
  }
  const { report } = await runDrill(options, out);
  return report.ok ? 0 : 1;
}

// `npm run drill` runs this file directly.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  drillCommand(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`L’exercice a échoué : ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
