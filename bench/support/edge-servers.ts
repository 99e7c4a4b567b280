/**
 * What the edge benches (edge.bench.ts, edge-flood.bench.ts, edge-surge.bench.ts) share: a Préau
 * child on the server CPU with its origin, signing pupils in, and a generator child on the load
 * CPU given its spec as a JSON file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FIXTURE_PASSWORD } from '../../test/support/fixtures.js';
import { benchLogin } from './bench-users.js';
import { benchNodeFlags, LOAD_CPU, startPinned, startServer, type BenchChild } from './proc.js';
import type { ChildMessage, ReadyMessage } from './protocol.js';
import { showProgress } from './report.js';

export type Server = { child: BenchChild; ready: ReadyMessage; origin: string };

export async function startPreau(args: string[]): Promise<Server> {
  const s = await startServer('preau-server.ts', args);
  return { ...s, origin: `http://127.0.0.1:${s.ready.port}` };
}

/** Signs one account in (patiently: the server may be busy) and returns its session cookie (`name=value`). */
export async function signIn(origin: string, login: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${origin}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login, password: FIXTURE_PASSWORD, remember: true }) });
    if (res.status === 200) return res.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('preau_session='))!;
    if (attempt > 20) throw new Error(`connexion de ${login} refusée : ${res.status} ${await res.text()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Signs bench users from..from+count-1 in, eight at a time. */
export async function signInMany(origin: string, count: number, from = 0): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 0; i < count; i += 8) cookies.push(...(await Promise.all(Array.from({ length: Math.min(8, count - i) }, (_, k) => signIn(origin, benchLogin(from + i + k))))));
  return cookies;
}

/**
 * Runs a generator child (a script of bench/support taking a spec file) on the load CPU, with a
 * progress display, and returns its result message of type `type`.
 */
export async function runGenerator<T extends ChildMessage['type']>(label: string, script: string, spec: unknown, type: T, timeoutMs: number, unit?: string): Promise<Extract<ChildMessage, { type: T }>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'preau-gen-'));
  const file = path.join(dir, 'spec.json');
  writeFileSync(file, JSON.stringify(spec));
  const child = startPinned(LOAD_CPU, script, [file], benchNodeFlags());
  const end = showProgress(label, child, unit);
  try {
    return await child.next(type, timeoutMs);
  } finally {
    end();
    await child.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
