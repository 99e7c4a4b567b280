import { describe, expect, it } from 'vitest';
import type { TestPreau } from './app.js';
import type { PersonKey } from './fixtures.js';

/**
 * One row of an authorisation matrix: a route, who may use it (answered `ok`, 200 by default),
 * who may know the resource but not do this (403), and everyone else (`denied`, 404 by default:
 * existence is not theirs to know).
 */
export interface MatrixRow {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  payload?: object;
  allowed: PersonKey[];
  ok?: number;
  forbidden?: PersonKey[];
  denied?: number;
}

/** Runs every row for every signed-in person (and anonymously: 401), in the order given. */
export function describeMatrix(rows: MatrixRow[], people: PersonKey[], preau: () => TestPreau): void {
  describe.each(rows)('$name', (row) => {
    const send = (client: Awaited<ReturnType<TestPreau['as']>>) => client.request({ method: row.method, url: row.url, ...(row.payload ? { payload: row.payload } : {}) });
    it('anonymous → 401', async () => {
      expect((await send(preau().anonymous)).statusCode).toBe(401);
    });
    it.each(people)('%s', async (who) => {
      const res = await send(await preau().as(who));
      const expected = row.allowed.includes(who) ? (row.ok ?? 200) : row.forbidden?.includes(who) ? 403 : (row.denied ?? 404);
      expect({ who, status: res.statusCode, body: res.statusCode === expected ? '' : res.body }).toEqual({ who, status: expected, body: '' });
      if (expected >= 400) expect(res.json().error.id).toMatch(/^[a-z]+\.[a-z_]+$/);
    });
  });
}
