import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The functions with the most self time in a V8 `.cpuprofile` (from `node --cpu-prof`). */
export function topSelfTime(file: string, limit = 15): { percent: number; ms: number; name: string }[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '~/').replace(/^.*\/main\//, '')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonyme)'} ${where}`.trim();
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
    total += dt;
  });
  return [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, us]) => ({ name, ms: us / 1000, percent: (100 * us) / total }));
}

/** Node flags that make a child write a CPU profile into a fresh directory on exit. */
export function profileFlags(enabled: boolean): { dir: string | undefined; flags: string[] } {
  if (!enabled) return { dir: undefined, flags: [] };
  const dir = mkdtempSync(path.join(tmpdir(), 'preau-prof-'));
  return { dir, flags: ['--cpu-prof', `--cpu-prof-dir=${dir}`] };
}

/** Prints the hottest functions of the profile written in `dir`; returns its path. */
export function printProfile(dir: string, limit = 15): string | undefined {
  // One profile per thread (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile): the main thread is 0; tsx's loader has its own.
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const file = files.find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f)) ?? files[0];
  if (!file) {
    console.log(`    (aucun profil CPU écrit dans ${dir})`);
    return undefined;
  }
  const full = path.join(dir, file);
  console.log(`\n    Profil CPU du serveur Préau (toute sa vie, démarrage compris) : ${full}\n    Fonctions les plus coûteuses (temps propre) :`);
  for (const t of topSelfTime(full, limit)) console.log(`    ${t.percent.toFixed(1).padStart(5)} %  ${t.name}`);
  return full;
}
