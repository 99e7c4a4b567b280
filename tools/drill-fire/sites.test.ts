import { describe, expect, it } from 'vitest';
import { ADDRESS, DEFAULT_LAYOUT, isDatabaseProcess, siteLayout } from './sites.js';

describe('the two-site layout: names and addresses', () => {
  it('keeps the fire drill’s names by default', () => {
    expect(DEFAULT_LAYOUT).toEqual({
      prefix: 'pf', cidr: '10.77.0.0/16', address: { host: '10.77.0.1', a: '10.77.0.11', b: '10.77.0.12', w: '10.77.0.13' },
      ns: { a: 'pfA', b: 'pfB', w: 'pfW' }, bridgeNs: 'pfN', bridge: 'pfbr', hostLink: 'pfH',
    });
    expect(ADDRESS).toBe(DEFAULT_LAYOUT.address);
  });

  it('gives another prefix and subnet names that share nothing with the default', () => {
    const pm = siteLayout('pm', '10.78.0.0/16');
    expect(pm).toMatchObject({ address: { host: '10.78.0.1', a: '10.78.0.11', b: '10.78.0.12', w: '10.78.0.13' }, ns: { a: 'pmA', b: 'pmB', w: 'pmW' }, bridgeNs: 'pmN', bridge: 'pmbr', hostLink: 'pmH' });
    const names = (l: typeof pm) => [...Object.values(l.ns), l.bridgeNs, l.bridge, l.hostLink, ...Object.values(l.address)];
    expect(names(pm).filter((n) => names(DEFAULT_LAYOUT).includes(n))).toEqual([]);
    // Every name fits a Linux interface name (15 characters), with the "-n" of the bridge's ends.
    expect(Math.max(...names(siteLayout('abcd', '10.255.0.0/16')).map((n) => `${n}-n`.length))).toBeLessThanOrEqual(15);
  });

  it('refuses a prefix or a subnet it cannot keep apart', () => {
    expect(() => siteLayout('p', '10.78.0.0/16')).toThrow(/préfixe/);
    expect(() => siteLayout('pm-x', '10.78.0.0/16')).toThrow(/préfixe/);
    expect(() => siteLayout('pm', '192.168.0.0/16')).toThrow(/sous-réseau/);
    expect(() => siteLayout('pm', '10.78.0.0/24')).toThrow(/sous-réseau/);
    expect(() => siteLayout('pm', '10.300.0.0/16')).toThrow(/sous-réseau/);
  });
});

describe('the database primary stop: which processes are the database', () => {
  it('matches Patroni and PostgreSQL by their program, never by their arguments', () => {
    expect(isDatabaseProcess(['/usr/bin/python3', '/usr/bin/patroni', '/tmp/preau-fire-x/a/patroni.yml'])).toBe(true);
    expect(isDatabaseProcess(['/usr/lib/postgresql/15/bin/postgres', '-D', '/tmp/x/pgdata'])).toBe(true);
    expect(isDatabaseProcess(['postgres: preau-fire-1: checkpointer '])).toBe(true);
    expect(isDatabaseProcess(['postgres: preau-fire-1: walsender replicator 10.78.0.12(40000) streaming 0/3000148'])).toBe(true);
    // A Préau node that talks to PostgreSQL, the site's HAProxy for it, etcd: not the database.
    expect(isDatabaseProcess(['/usr/bin/node', '--import', 'tsx', 'tools/drill/drill-server.ts', '--postgres-url', 'postgres://postgres@127.0.0.1:5000/postgres'])).toBe(false);
    expect(isDatabaseProcess(['haproxy', '-db', '-f', '/work/deploy/haproxy-postgres.cfg'])).toBe(false);
    expect(isDatabaseProcess(['etcd', '--name', 'etcd-a'])).toBe(false);
    expect(isDatabaseProcess([])).toBe(false);
  });
});
