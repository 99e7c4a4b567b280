import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, haproxyAvailable, startHaproxy, startPreauNode, type Haproxy, type PreauNode } from './support/nodes.js';

interface Answer {
  status: number;
  body: string;
  cookies: string[];
}

function request(agent: http.Agent, port: number, pathname: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathname, method: options.method ?? 'GET', agent, headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cookies: res.headers['set-cookie'] ?? [] }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * The shipped deploy/haproxy.cfg (its addresses substituted) in front of two `preau serve`
 * processes sharing one SQLite database: requests spread over both, the client address Préau sees
 * is the client's (PROXY protocol v2), and a node stopped with SIGTERM drains without one failed request.
 */
describe.runIf(haproxyAvailable())('two Préau nodes behind deploy/haproxy.cfg', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'preau-haproxy-'));
  const nodes: PreauNode[] = [];
  let haproxy: Haproxy;
  let origin: string;

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    const env = (name: string) => ({
      DATABASE_URL: `sqlite:${path.join(dir, 'preau.sqlite')}`,
      PREAU_DATA_DIR: path.join(dir, name),
      PREAU_PUBLIC_URL: origin,
      PREAU_TRUSTED_PROXIES: '127.0.0.1',
      PREAU_HASH_CONCURRENCY: '1',
    });
    // The first node creates the demo school; the second finds it there.
    nodes.push(await startPreauNode(env('node1'), { demoLogins: true }));
    nodes.push(await startPreauNode(env('node2')));
    // On the port the nodes' public URL names (their Origin check).
    haproxy = await startHaproxy(dir, nodes.map((n) => n.port), port);
  }, 180_000);

  afterAll(async () => {
    await haproxy?.stop();
    for (const n of nodes) {
      if (n.child.exitCode === null) n.child.kill('SIGTERM');
      await n.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('spreads requests over both nodes', async () => {
    const before = await haproxy.servers();
    const agent = new http.Agent({ keepAlive: true, localAddress: '127.0.0.40' });
    for (let i = 0; i < 40; i++) expect((await request(agent, haproxy.port, '/healthz')).status).toBe(200);
    agent.destroy();
    const after = await haproxy.servers();
    for (const name of ['node1', 'node2']) {
      const served = after.get(name)!.answered2xx - before.get(name)!.answered2xx;
      expect(served, `${name} a répondu ${served} fois`).toBeGreaterThanOrEqual(1);
    }
  });

  it('Préau sees the client’s own address, not the proxy’s, and a forged header changes nothing', async () => {
    const account = nodes[0]!.demoLogins[0]!;
    const agent = new http.Agent({ keepAlive: true, localAddress: '127.0.0.77' });
    const login = await request(agent, haproxy.port, '/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin, 'x-forwarded-for': '203.0.113.66' },
      body: JSON.stringify({ login: account.login, password: account.password }),
    });
    expect(login.status, login.body).toBe(200);
    const cookie = login.cookies.map((c) => c.split(';')[0]).join('; ');
    const sessions = await request(agent, haproxy.port, '/api/v1/me/sessions', { headers: { cookie } });
    expect(sessions.status, sessions.body).toBe(200);
    const list = (JSON.parse(sessions.body) as { sessions: { ip: string }[] }).sessions;
    expect(list.map((s) => s.ip)).toContain('127.0.0.77');
    expect(list.map((s) => s.ip)).not.toContain('203.0.113.66');
    expect(list.map((s) => s.ip)).not.toContain('127.0.0.1');
    // /metrics is for the machine itself: through the proxy, from a non-local client address, it is not there.
    expect((await request(agent, haproxy.port, '/metrics')).status).toBe(404);
    agent.destroy();
  });

  it('a node stopped with SIGTERM is drained: not one request fails, it exits 0, the other serves', async () => {
    const failures: string[] = [];
    let served = 0;
    let running = true;
    // Four clients at a steady pace (each ≤ 50 requests/s: under the edge's per-address budget).
    const workers = [0, 1, 2, 3].map(async (i) => {
      const agent = new http.Agent({ keepAlive: true, localAddress: `127.0.0.${90 + i}` });
      while (running) {
        try {
          const r = await request(agent, haproxy.port, '/healthz');
          if (r.status === 200) served++;
          else failures.push(`${r.status} ${r.body.slice(0, 120)}`);
        } catch (err) {
          failures.push(String(err));
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      agent.destroy();
    });
    await new Promise((r) => setTimeout(r, 1_000));
    const node1 = nodes[0]!;
    node1.child.kill('SIGTERM');
    // HAProxy sees /readyz turn 503 and takes node1 out while it still serves.
    await expect.poll(async () => (await haproxy.servers()).get('node1')!.status, { timeout: 10_000, interval: 200 }).toMatch(/^DOWN/);
    const code = await node1.exited;
    const node2Before = (await haproxy.servers()).get('node2')!.answered2xx;
    await new Promise((r) => setTimeout(r, 1_000));
    running = false;
    await Promise.all(workers);
    expect(code, node1.output()).toBe(0);
    expect(failures).toEqual([]);
    expect(served).toBeGreaterThan(50);
    expect((await haproxy.servers()).get('node2')!.answered2xx).toBeGreaterThan(node2Before);
  }, 60_000);
});
