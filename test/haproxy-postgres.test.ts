import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { haproxyAvailable } from './support/nodes.js';

/**
 * deploy/haproxy-postgres.cfg: HAProxy accepts it as shipped, and it keeps the three properties the
 * failover relies on. Its behaviour (a primary lost, reads on the standby, the new primary followed)
 * is exercised by `npm run drill:fire` (.ci/run), which runs this very file in both sites.
 */
describe.runIf(haproxyAvailable())('deploy/haproxy-postgres.cfg', () => {
  const text = readFileSync('deploy/haproxy-postgres.cfg', 'utf8');

  it('is valid for HAProxy', () => {
    const r = spawnSync('haproxy', ['-c', '-f', 'deploy/haproxy-postgres.cfg'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  it('sends connections to the host Patroni calls primary, to a standby only while there is none, and cuts sessions to a lost primary', () => {
    const listen = text.slice(text.indexOf('listen postgres'), text.indexOf('backend standbys'));
    expect(listen).toMatch(/http-check send meth GET uri \/primary/);
    expect(listen).toMatch(/on-marked-down shutdown-sessions/);
    expect(listen).toMatch(/on-marked-up shutdown-backup-sessions/);
    const primaries = listen.split('\n').filter((l) => /^\s*server /.test(l) && !/\bbackup\b/.test(l));
    const standbys = listen.split('\n').filter((l) => /^\s*server /.test(l) && /\bbackup\b/.test(l));
    expect(primaries.length).toBe(2);
    expect(standbys.every((l) => /track standbys\//.test(l))).toBe(true);
    expect(standbys.length).toBe(primaries.length);
    expect(text.slice(text.indexOf('backend standbys'))).toMatch(/uri \/replica/);
  });
});
