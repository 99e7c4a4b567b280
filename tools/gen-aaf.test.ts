import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAafFile } from '../src/modules/schools/aaf/aaf.parser.js';
import { generateAafDelta, generateAafFeed } from './gen-aaf.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'gen-aaf-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) out[f] = readFileSync(path.join(dir, f), 'latin1');
  return out;
}

describe('generateAafFeed', () => {
  it('is deterministic for a seed, and a partial feed is the same data', async () => {
    const a = await generateAafFeed(path.join(tmp, 'a'), { schools: 2, pupilsPerSchool: 30, seed: 11 });
    await generateAafFeed(path.join(tmp, 'b'), { schools: 2, pupilsPerSchool: 30, seed: 11 });
    await generateAafFeed(path.join(tmp, 'c'), { schools: 2, pupilsPerSchool: 30, seed: 12 });
    await generateAafFeed(path.join(tmp, 'd'), { schools: 2, pupilsPerSchool: 30, seed: 11, only: ['Eleve'] });
    expect(contents(path.join(tmp, 'a'))).toEqual(contents(path.join(tmp, 'b')));
    expect(contents(path.join(tmp, 'a'))).not.toEqual(contents(path.join(tmp, 'c')));
    const eleve = 'ENT_Complet_20240902_Eleve_0000.xml';
    expect(contents(path.join(tmp, 'd'))).toEqual({ [eleve]: contents(path.join(tmp, 'a'))[eleve] });
    expect(a.counts.pupils).toBe(60);
    expect(a.counts.people).toBe(a.counts.pupils + a.counts.parents + a.counts.teachers + a.counts.staff);
  });

  it('writes valid files, in ISO-8859-15 when asked, rotating files at maxRecordsPerFile', async () => {
    const dir = path.join(tmp, 'iso');
    const feed = await generateAafFeed(dir, { schools: 1, pupilsPerSchool: 50, seed: 3, encoding: 'ISO-8859-15', maxRecordsPerFile: 20 });
    expect(feed.files.filter((f) => f.includes('_Eleve_'))).toHaveLength(3);
    let records = 0;
    let accented = false;
    for (const f of feed.files) {
      expect(readFileSync(f, 'latin1')).toMatch(/^<\?xml version="1.0" encoding="ISO-8859-15"\?>/);
      for await (const r of parseAafFile(f)) {
        records++;
        if (/[éèëïôÉ]/.test(r.attrs.get('givenName')?.[0] ?? '')) accented = true;
      }
    }
    expect(records).toBe(feed.counts.records);
    expect(accented).toBe(true);
  });

  it('targets a total number of people', async () => {
    const feed = await generateAafFeed(path.join(tmp, 'people'), { people: 3000, seed: 5 });
    expect(feed.counts.people).toBeGreaterThan(2700);
    expect(feed.counts.people).toBeLessThan(3300);
  });

  it('writes a delta of modifications and deletions', async () => {
    const options = { schools: 2, pupilsPerSchool: 30, seed: 11 };
    const delta = await generateAafDelta(path.join(tmp, 'delta'), options, { modifyPupils: 3, deletePupils: 2 });
    const ops: string[] = [];
    for await (const r of parseAafFile(delta.file)) ops.push(`${r.op}:${r.id}`);
    expect(ops).toEqual([...delta.modified.map((m) => `modify:${m.jointure}`), ...delta.deleted.map((j) => `delete:${j}`)]);
  });
});
