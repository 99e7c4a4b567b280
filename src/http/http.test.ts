import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPreau, type TestPreau } from '../../test/support/app.js';

describe('HTTP basics', () => {
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau('sqlite');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('/healthz and /readyz answer; readiness reflects the database', async () => {
    expect((await t.anonymous.request({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await t.anonymous.request({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });
  });

  it('sends security headers: CSP without unsafe-inline, nosniff, frame-ancestors none', async () => {
    const res = await t.anonymous.request({ method: 'GET', url: '/healthz' });
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
  });

  it('API answers carry the strict API policy', async () => {
    const res = await t.anonymous.request({ method: 'GET', url: '/api/v1/me' });
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('an unknown route is a JSON 404 with an error id', async () => {
    const res = await t.anonymous.request({ method: 'GET', url: '/api/v1/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ id: 'request.not_found', message: 'Cette page ou ressource n’existe pas.' });
    expect(res.headers['content-security-policy']).toBeDefined();
  });

  it('an unexpected failure is a generic 500: logged, never leaked', async () => {
    await t.preau.storage.db.schema.dropTable('timetable_slots').execute();
    const res = await (await t.as('pupilA1')).request({ method: 'GET', url: '/api/v1/me/today' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { id: 'server.internal', message: 'Une erreur inattendue est survenue. Elle a été enregistrée ; réessayez dans un instant.' } });
    expect(res.body).not.toMatch(/timetable_slots|sqlite|stack/i);
  });

  it('metrics are served to the machine itself only', async () => {
    const local = await t.preau.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    expect(local.statusCode).toBe(200);
    expect(local.body).toContain('preau_password_queue_depth');
    const remote = await t.preau.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.5' });
    expect(remote.statusCode).toBe(404);
  });

  it('every route declares its criticality (the edge sorts traffic by it)', async () => {
    const { createHttpApp } = await import('./app.js');
    const { createLogger } = await import('../platform/logger.js');
    const app = createHttpApp(createLogger('silent'), false);
    expect(() => app.get('/x', async () => 'x')).toThrow(/criticité/);
    await app.close();
  });
});
