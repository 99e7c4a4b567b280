import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPreau, type TestPreau } from '../../../test/support/app.js';
import { FIXTURE_PASSWORD } from '../../../test/support/fixtures.js';
import { openCountryDatabase, whereabouts } from '../geo/geo.js';

describe('geography (crisis mode)', () => {
  it('overseas departments and territories are France; unknown is never abroad; operator networks are France', () => {
    expect(whereabouts('FR', '1.2.3.0/24', new Set())).toBe('france');
    expect(whereabouts('RE', '1.2.3.0/24', new Set())).toBe('france');
    expect(whereabouts('NC', '1.2.3.0/24', new Set())).toBe('france');
    expect(whereabouts('US', '1.2.3.0/24', new Set())).toBe('abroad');
    expect(whereabouts(undefined, '1.2.3.0/24', new Set())).toBe('unknown');
    expect(whereabouts('DE', '1.2.3.0/24', new Set(['1.2.3.0/24']))).toBe('france');
  });

  it('reads the shipped country database', async () => {
    const db = await openCountryDatabase();
    expect(db.countryOf('90.84.1.1')).toBe('FR');
    expect(db.countryOf('41.213.128.1')).toBe('RE');
    expect(db.countryOf('8.8.8.8')).toBe('US');
    expect(db.countryOf('127.0.0.1')).toBeUndefined();
    expect(db.countryOf('not an address')).toBeUndefined();
  });
});

describe('operator view on the composed app (sqlite)', () => {
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau('sqlite');
  });
  afterAll(async () => {
    await t?.close();
  });

  const login = (address: string) =>
    t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: address, payload: { login: 'pupila2', password: FIXTURE_PASSWORD } });

  it('only platform administrators see and change the edge settings', async () => {
    expect((await t.anonymous.request({ method: 'GET', url: '/api/v1/admin/edge' })).statusCode).toBe(401);
    const teacher = await t.as('teacherA');
    const refused = await teacher.request({ method: 'GET', url: '/api/v1/admin/edge' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.id).toBe('access.forbidden');
    expect((await teacher.request({ method: 'PUT', url: '/api/v1/admin/edge', payload: { crisisMode: true } })).statusCode).toBe(403);
    const admin = await t.as('platformAdmin');
    const view = await admin.request({ method: 'GET', url: '/api/v1/admin/edge' });
    expect(view.statusCode).toBe(200);
    expect(view.json()).toMatchObject({ crisisMode: false, challengeMode: 'auto', banner: null });
    const names = (view.json().series as { series: string }[]).map((s) => s.series);
    for (const expected of ['preau_edge_admitted_total{class="critical"}', 'preau_edge_event_loop_lag_ms', 'preau_waiting_room_waiting', 'preau_challenges_total{outcome="issued"}', 'preau_edge_rate_limited_total{scope="address"}'])
      expect(names).toContain(expected);
  });

  it('shows the node’s start-up notices (backups missing or on the data’s disk) to platform administrators only', async () => {
    const admin = await t.as('platformAdmin');
    expect((await admin.request({ method: 'GET', url: '/api/v1/admin/edge' })).json().notices).toEqual([]);
    t.preau.edge!.controls.operatorNotices = ['Sauvegardes : le dossier de sauvegarde /srv/b est sur le même disque que les données'];
    try {
      expect((await admin.request({ method: 'GET', url: '/api/v1/admin/edge' })).json().notices).toEqual(['Sauvegardes : le dossier de sauvegarde /srv/b est sur le même disque que les données']);
      expect((await (await t.as('teacherA')).request({ method: 'GET', url: '/api/v1/admin/edge' })).body).not.toContain('Sauvegardes');
    } finally {
      t.preau.edge!.controls.operatorNotices = [];
    }
  });

  it('refuses bad settings and writes without the CSRF token', async () => {
    const admin = await t.as('platformAdmin');
    const unknown = await admin.request({ method: 'PUT', url: '/api/v1/admin/edge', payload: { crisis: true } });
    expect(unknown.json().error.id).toBe('request.unknown_field');
    expect((await admin.request({ method: 'PUT', url: '/api/v1/admin/edge', payload: { challengeBits: 99 } })).statusCode).toBe(400);
    const noCsrf = await admin.request({ method: 'PUT', url: '/api/v1/admin/edge', payload: { crisisMode: true }, headers: { 'x-csrf-token': 'nope' } });
    expect(noCsrf.json().error.id).toBe('auth.csrf');
  });

  it('crisis mode: a client abroad is challenged first, one in France is not; an operator network abroad counts as France; the banner is public', async () => {
    const admin = await t.as('platformAdmin');
    expect((await admin.request({ method: 'PUT', url: '/api/v1/admin/edge', payload: { crisisMode: true, banner: 'Connexions lentes ce matin : merci de votre patience.' } })).statusCode).toBe(200);
    const abroad = await login('8.8.8.8');
    expect(abroad.statusCode).toBe(403);
    expect(abroad.json().error.id).toBe('challenge.required');
    expect((await login('90.84.1.1')).statusCode).toBe(200);
    expect((await login('41.213.128.1')).statusCode).toBe(200);
    await admin.request({ method: 'PUT', url: '/api/v1/admin/edge', payload: { franceNetworks: ['8.8.8.0/24'] } });
    expect((await login('8.8.8.8')).statusCode).toBe(200);
    // The banner is the platform's one status banner, the one every page of the web client shows.
    const status = await t.anonymous.request({ method: 'GET', url: '/api/v1/status' });
    expect(status.json()).toEqual({ incident: 'Connexions lentes ce matin : merci de votre patience.', readOnly: false });
    await admin.request({ method: 'PUT', url: '/api/v1/admin/edge', payload: { crisisMode: false, banner: null, franceNetworks: [] } });
    expect((await login('8.8.8.8')).statusCode).toBe(200);
  });

  it('the operator page is static and has no inline script or style', async () => {
    const page = await t.anonymous.request({ method: 'GET', url: '/admin/entree' });
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toMatch(/<script(?![^>]*\ssrc=)|<style|\sstyle=/);
  });
});
