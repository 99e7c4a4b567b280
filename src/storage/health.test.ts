import { describe, expect, it } from 'vitest';
import { createLogger } from '../platform/logger.js';
import { Metrics } from '../platform/metrics.js';
import { classifyDatabaseError, DatabaseHealth, decide } from './health.js';

describe('classifyDatabaseError', () => {
  it('reads a standby or a read-only transaction as read-only', () => {
    expect(classifyDatabaseError({ code: '25006', message: 'cannot execute INSERT in a read-only transaction' })).toBe('read_only');
  });
  it('reads shutdowns, connection classes and socket errors as unreachable', () => {
    for (const code of ['57P01', '57P02', '57P03', '08006', '08001', '08P01', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH']) expect(classifyDatabaseError({ code }), code).toBe('unreachable');
    expect(classifyDatabaseError(new Error('Connection terminated unexpectedly'))).toBe('unreachable');
    expect(classifyDatabaseError(new Error('timeout exceeded when trying to connect'))).toBe('unreachable');
  });
  it('leaves ordinary errors alone (constraints, bugs, non-errors)', () => {
    expect(classifyDatabaseError({ code: '23505' })).toBeUndefined();
    expect(classifyDatabaseError({ code: 'SQLITE_CONSTRAINT_UNIQUE' })).toBeUndefined();
    expect(classifyDatabaseError(new TypeError('x is undefined'))).toBeUndefined();
    expect(classifyDatabaseError(undefined)).toBeUndefined();
    expect(classifyDatabaseError('ECONNREFUSED')).toBeUndefined();
  });
});

describe('decide', () => {
  it('a failed probe sets read-only, a committed probe lifts it', () => {
    expect(decide('writable', { kind: 'probe_failed' })).toEqual({ state: 'read_only', probeNow: false });
    expect(decide('read_only', { kind: 'probe_failed' })).toEqual({ state: 'read_only', probeNow: false });
    expect(decide('read_only', { kind: 'probe_ok' })).toEqual({ state: 'writable', probeNow: false });
    expect(decide('writable', { kind: 'probe_ok' })).toEqual({ state: 'writable', probeNow: false });
  });
  it('believes the database saying read-only at once, and confirms with a probe', () => {
    expect(decide('writable', { kind: 'traffic_failed', failure: 'read_only' })).toEqual({ state: 'read_only', probeNow: true });
  });
  it('a lost connection alone changes nothing but asks for a probe now', () => {
    expect(decide('writable', { kind: 'traffic_failed', failure: 'unreachable' })).toEqual({ state: 'writable', probeNow: true });
    expect(decide('read_only', { kind: 'traffic_failed', failure: 'unreachable' })).toEqual({ state: 'read_only', probeNow: true });
  });
});

describe('DatabaseHealth', () => {
  const settings = { probeEveryMs: 60_000, probeWhileReadOnlyEveryMs: 60_000, probeTimeoutMs: 50 };
  it('follows its probe both ways, and a probe that never settles counts as failed', async () => {
    let behaviour: 'ok' | 'fail' | 'hang' = 'fail';
    const metrics = new Metrics();
    const health = new DatabaseHealth(
      settings,
      () => (behaviour === 'ok' ? Promise.resolve() : behaviour === 'fail' ? Promise.reject(Object.assign(new Error('read-only'), { code: '25006' })) : new Promise<void>(() => undefined)),
      createLogger('silent'),
      metrics,
    );
    expect(health.readOnly()).toBe(false);
    await health.probe();
    expect(health.readOnly()).toBe(true);
    expect(health.details()).toEqual({ database: 'read_only' });
    expect(metrics.render()).toContain('preau_database_read_only 1');
    behaviour = 'ok';
    await health.probe();
    expect(health.readOnly()).toBe(false);
    behaviour = 'hang';
    await health.probe();
    expect(health.readOnly()).toBe(true);
    expect(metrics.render()).toContain('preau_database_read_only_transitions_total 3');
    health.stop();
  });
  it('a request meeting a standby sets read-only at once; an ordinary error does not', () => {
    const health = new DatabaseHealth(settings, () => Promise.resolve(), createLogger('silent'), new Metrics());
    health.observe({ code: '23505' });
    expect(health.readOnly()).toBe(false);
    health.observe({ code: '25006' });
    expect(health.readOnly()).toBe(true);
    health.stop();
  });
});
