import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, describe, expect, it } from 'vitest';
import { AafFormatError, categoryFromFileName, detectDeclaredEncoding, firstInvalidUtf8Offset, parseAafFile, type AafRecord } from './aaf.parser.js';
import { mapGuardians, mapPerson, mapStructure, mapTeachings, profileOfFunctions, structureName } from './aaf.mapping.js';

const SAMPLES = path.resolve('samples/aaf');
const SAMPLE_2020 = path.join(SAMPLES, 'sample-2020');
const ACADEMIE_2013 = path.join(SAMPLES, 'academie-2013');

const tmp = mkdtempSync(path.join(tmpdir(), 'aaf-parser-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function parseAll(file: string, chunkBytes?: number): Promise<AafRecord[]> {
  const out: AafRecord[] = [];
  for await (const r of parseAafFile(file, { chunkBytes })) out.push(r);
  return out;
}

async function parseError(file: string): Promise<AafFormatError> {
  try {
    await parseAll(file);
  } catch (e) {
    if (e instanceof AafFormatError) return e;
    throw e;
  }
  throw new Error(`${file} was accepted`);
}

function write(name: string, content: string | Buffer): string {
  const file = path.join(tmp, name);
  writeFileSync(file, content);
  return file;
}

const HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE ficAlimMENESR SYSTEM "ficAlimMENESR.dtd">\n<ficAlimMENESR>\n';
function eleve(id: string, extra = ''): string {
  return `<addRequest>
<operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>
<identifier><id>${id}</id></identifier>
<attributes>
<attr name="ENTPersonJointure"><value>${id}</value></attr>
<attr name="sn"><value>Durand</value></attr>
<attr name="givenName"><value>Léa</value></attr>
${extra}</attributes>
</addRequest>
`;
}

describe('parseAafFile on the sample feeds', () => {
  it('parses every sample file', async () => {
    const expected: Record<string, number> = {
      'ENT_Complet_20200101_Eleve_0000.xml': 1,
      'ENT_Complet_20200101_EtabEducNat_0000.xml': 1,
      'FULL_ENTTSSERVICES_Complet_20130117_EtabEducNat_0000.xml': 10,
      'FULL_ENTTSSERVICES_Complet_20130117_MatiereEducNat_0000.xml': 718,
      'FULL_ENTTSSERVICES_Complet_20130117_PersEducNat_0001.xml': 3,
    };
    let parents = 0;
    for (const dir of [SAMPLE_2020, ACADEMIE_2013]) {
      for (const name of readdirSync(dir).filter((n) => n.endsWith('.xml'))) {
        const records = await parseAll(path.join(dir, name));
        if (name in expected) expect(records.length, name).toBe(expected[name]);
        else parents += records.length;
        for (const r of records) {
          expect(r.op).toBe('add');
          expect(r.id).not.toBe('');
          expect(r.category).toBe(categoryFromFileName(name));
        }
      }
    }
    expect(parents).toBe(82);
  });

  it('decodes the ISO-8859-15 school file and maps the school', async () => {
    const [school] = await parseAll(path.join(SAMPLE_2020, 'ENT_Complet_20200101_EtabEducNat_0000.xml'));
    expect(school!.category).toBe('EtabEducNat');
    expect(school!.attrs.get('ENTEtablissementMinistereTutelle')).toEqual(['MINISTERE DE L\u2019EDUCATION NATIONALE'.replace('\u2019', "'")]);
    expect(mapStructure(school!)).toEqual({
      jointure: '1',
      uai: '0000000V',
      name: 'NOM STRUCTURE COURANT',
      kind: 'ECOLE',
      academie: 'LILLE',
      classes: [],
      groups: [],
    });
  });

  it('decodes bytes above 0x7F as ISO-8859-15 (€ is 0xA4 there, not ¤)', async () => {
    const source = readFileSync(path.join(SAMPLE_2020, 'ENT_Complet_20200101_EtabEducNat_0000.xml'), 'latin1').replace('NOM$STRUCTURE$COURANT', 'COLLÈGE$LÉON BLUM$€');
    const file = write('ENT_Complet_20200101_EtabEducNat_0001.xml', iconv.encode(source, 'iso-8859-15'));
    expect(readFileSync(file).includes(0xa4)).toBe(true);
    const [school] = await parseAll(file);
    expect(mapStructure(school!).name).toBe('COLLÈGE LÉON BLUM €');
  });

  it('reads the pupil and his parent links, and never needs the personal fields', async () => {
    const [pupil] = await parseAll(path.join(SAMPLE_2020, 'ENT_Complet_20200101_Eleve_0000.xml'));
    expect(pupil!.attrs.get('ENTElevePersRelEleve')).toEqual(['2000000$10$1$1$1$1', '3000000$20$0$1$0$0']);
    expect(pupil!.attrs.get('ENTEleveGroupes')).toEqual([]);
    const d = mapPerson(pupil!);
    expect(d).toEqual({
      jointure: '2000000',
      profile: 'eleve',
      staffFunction: null,
      firstName: 'Prenom',
      lastName: 'NOM',
      title: 'M.',
      rattach: '1000',
      mefCode: '10000000000',
      classes: [{ structure: '3000', code: '1AQUA' }],
      groups: [],
      // The anonymised sample lists the pupil as his own relation: that is not a guardian.
      guardians: [{ parentJointure: '3000000', legalGuardian: 1, relation: 'pere' }],
    });
    // Data minimisation: nothing personal beyond names leaves the mapping.
    expect(JSON.stringify(d)).not.toMatch(/100000000AA|01\/01\/2000|rue de Test|LINARS/);
  });

  it('reads the 2013 staff (no XML declaration: UTF-8) and maps their functions', async () => {
    const staff = await parseAll(path.join(ACADEMIE_2013, 'FULL_ENTTSSERVICES_Complet_20130117_PersEducNat_0001.xml'));
    const [music, readapt, maths] = staff.map(mapPerson);
    expect(music).toMatchObject({ jointure: '2397809', profile: 'enseignant', staffFunction: null, firstName: 'ALMUDENA', lastName: 'ALBERTO', rattach: '52008' });
    expect(music!.teachings).toContainEqual({ structure: '50187', kind: 'class', code: '3A', subjectCode: '081300', principal: 0 });
    expect(music!.teachings).toContainEqual({ structure: '52008', kind: 'class', code: '208', subjectCode: null, principal: 0 });
    expect(music!.teachings).toContainEqual({ structure: '50187', kind: 'group', code: 'MCHANKGR', subjectCode: '080900', principal: 0 });
    expect(readapt).toMatchObject({ profile: 'personnel', staffFunction: 'autre', lastName: 'DEVAUX', title: 'Mme', teachings: [] });
    expect(maths).toMatchObject({ profile: 'enseignant', functionStructures: ['51098'] });
  });

  it('reads UTF-8 parents names across chunk boundaries identically whatever the read size', async () => {
    const file = path.join(ACADEMIE_2013, 'clean-FULL_ENTTSSERVICES_Complet_20130117_PersRelEleve_0007.xml');
    const big = await parseAll(file);
    const tiny = await parseAll(file, 7);
    expect(tiny.map((r) => [r.id, r.attrs.get('givenName')])).toEqual(big.map((r) => [r.id, r.attrs.get('givenName')]));
    const first = await parseAll(path.join(ACADEMIE_2013, 'clean-FULL_ENTTSSERVICES_Complet_20130117_PersRelEleve_0000.xml'));
    expect(first[0]).toMatchObject({ id: '1986923', category: 'PersRelEleve', line: 4 });
    expect(first[0]!.attrs.get('givenName')).toEqual(['Mélodie']);
    expect(mapPerson(first[0]!)).toEqual({ jointure: '1986923', profile: 'parent', staffFunction: null, lastName: 'Nichols', firstName: 'Mélodie', title: 'M.' });
  });

  it('parses modify and delete requests', async () => {
    const file = write(
      'ENT_Delta_20240101_Eleve_0000.xml',
      `${HEADER}<modifyRequest>
<operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>
<identifier><id>42</id></identifier>
<modifications>
<modification name="sn" operation="replace"><value>Petit</value></modification>
<modification name="ENTEleveClasses" operation="replace"><value>9$6B</value><value>9$6C</value></modification>
</modifications>
</modifyRequest>
<deleteRequest>
<operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>
<identifier><id>43</id></identifier>
</deleteRequest>
</ficAlimMENESR>`,
    );
    const [mod, del] = await parseAll(file);
    expect(mod).toMatchObject({ op: 'modify', category: 'Eleve', id: '42' });
    expect(mapPerson(mod!)).toEqual({ jointure: '42', lastName: 'Petit', classes: [{ structure: '9', code: '6B' }, { structure: '9', code: '6C' }] });
    expect(del).toMatchObject({ op: 'delete', id: '43' });
  });
});

describe('parseAafFile refuses broken files with a precise error', () => {
  it('truncated file: names the record and the attribute being read', async () => {
    const full = `${HEADER}${eleve('101')}${eleve('102', '<attr name="ENTEleveClasses"><value>9$6A</value></attr>\n')}</ficAlimMENESR>\n`;
    const cut = full.slice(0, full.indexOf('9$6A'));
    const e = await parseError(write('ENT_Complet_20240101_Eleve_0001.xml', cut));
    expect(e.file).toContain('ENT_Complet_20240101_Eleve_0001.xml');
    expect(e.recordId).toBe('102');
    expect(e.attribute).toBe('ENTEleveClasses');
    expect(e.line).toBeGreaterThan(10);
    expect(e.message).toMatch(/ENT_Complet_20240101_Eleve_0001\.xml.*102.*ENTEleveClasses/);
  });

  it('truncated between records: the root is not closed', async () => {
    const e = await parseError(write('trunc2.xml', `${HEADER}${eleve('101')}`));
    expect(e.reason).toMatch(/tronqué|XML mal formé/);
  });

  it('ISO-8859-15 bytes in a file declared UTF-8: names record, attribute and line', async () => {
    // A valid UTF-8 record, then one pasted from an ISO-8859-15 export.
    const good = `${HEADER}${eleve('201')}`;
    const bad = `${eleve('202').replace('Durand', 'Hélène')}</ficAlimMENESR>\n`;
    const text = good + bad;
    const file = write('ENT_Complet_20240101_Eleve_0002.xml', Buffer.concat([Buffer.from(good, 'utf8'), iconv.encode(bad, 'iso-8859-15')]));
    const e = await parseError(file);
    expect(e.recordId).toBe('202');
    expect(e.attribute).toBe('sn');
    expect(e.line).toBe(text.split('\n').findIndex((l) => l.includes('Hélène')) + 1);
    expect(e.reason).toMatch(/UTF-8/);
  });

  it('an unsupported declared encoding is refused', async () => {
    const e = await parseError(write('utf16.xml', HEADER.replace('UTF-8', 'EBCDIC-FR') + '</ficAlimMENESR>'));
    expect(e.reason).toMatch(/EBCDIC-FR/);
  });

  it('unknown category', async () => {
    const text = `${HEADER}${eleve('301').replace('<value>Eleve</value>', '<value>Extraterrestre</value>')}</ficAlimMENESR>\n`;
    const e = await parseError(write('cat.xml', text));
    expect(e).toMatchObject({ recordId: '301', attribute: 'categoriePersonne', line: 4 });
    expect(e.reason).toMatch(/Extraterrestre/);
  });

  it('broken $ field in a known attribute', async () => {
    const text = `${HEADER}${eleve('401', '<attr name="ENTElevePersRelEleve"><value>5001$10$1$1</value></attr>\n')}</ficAlimMENESR>\n`;
    const e = await parseError(write('dollar.xml', text));
    expect(e).toMatchObject({ recordId: '401', attribute: 'ENTElevePersRelEleve' });
    expect(e.reason).toMatch(/4 partie\(s\).*6/);
    const e2 = await parseError(write('dollar2.xml', `${HEADER}${eleve('402', '<attr name="ENTEleveClasses"><value>6A</value></attr>\n')}</ficAlimMENESR>\n`));
    expect(e2).toMatchObject({ recordId: '402', attribute: 'ENTEleveClasses' });
  });

  it('missing identifier: named by its jointure when there is one', async () => {
    const text = `${HEADER}${eleve('501').replace('<id>501</id>', '<id></id>')}</ficAlimMENESR>\n`;
    const e = await parseError(write('noid.xml', text));
    expect(e.attribute).toBe('identifier');
    expect(e.recordId).toContain('501');
    expect(e.line).toBe(4);
  });

  it('malformed XML', async () => {
    const e = await parseError(write('bad.xml', `${HEADER}${eleve('601').replace('</attributes>', '</attribute>')}</ficAlimMENESR>\n`));
    expect(e.recordId).toBe('601');
    expect(e.reason).toMatch(/XML mal formé/);
  });

  it('never resolves external entities', async () => {
    const text = `<?xml version="1.0"?>\n<!DOCTYPE ficAlimMENESR [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<ficAlimMENESR>\n${eleve('701').replace('Durand', '&xxe;')}</ficAlimMENESR>\n`;
    const e = await parseError(write('xxe.xml', text));
    expect(e.recordId).toBe('701');
    expect(e.message).not.toMatch(/root:/);
  });

  it('empty file', async () => {
    const e = await parseError(write('empty.xml', ''));
    expect(e.reason).toMatch(/vide/);
  });
});

describe('encoding helpers', () => {
  it('detects the declared encoding, UTF-8 by default', () => {
    expect(detectDeclaredEncoding(Buffer.from('<?xml version="1.0" encoding="ISO-8859-15"?><a/>')).encoding).toBe('iso-8859-15');
    expect(detectDeclaredEncoding(Buffer.from("<?xml version='1.0' encoding='utf-8'?>")).encoding).toBe('utf-8');
    expect(detectDeclaredEncoding(Buffer.from('<!DOCTYPE ficAlimMENESR>')).encoding).toBe('utf-8');
    expect(detectDeclaredEncoding(Buffer.from('\ufeff<?xml version="1.0"?>')).bomBytes).toBe(3);
  });

  it('finds the first invalid UTF-8 byte, tolerating a sequence cut at the end of a chunk', () => {
    expect(firstInvalidUtf8Offset(Buffer.from('abc é', 'utf8'), true)).toBe(-1);
    expect(firstInvalidUtf8Offset(Buffer.from([0x61, 0xe9, 0x61]), true)).toBe(1);
    expect(firstInvalidUtf8Offset(Buffer.from([0x61, 0xc3]), false)).toBe(-1);
    expect(firstInvalidUtf8Offset(Buffer.from([0x61, 0xc3]), true)).toBe(1);
    expect(firstInvalidUtf8Offset(Buffer.from([0xc0, 0x80]), true)).toBe(0);
  });
});

describe('mapping rules', () => {
  it('structure names split by $ become words', () => {
    expect(structureName('NOM$STRUCTURE$COURANT')).toBe('NOM STRUCTURE COURANT');
    expect(structureName('CLG$$JEAN MOULIN')).toBe('CLG JEAN MOULIN');
  });

  it('functions give the profile and staff function', () => {
    expect(profileOfFunctions(['ENS'], 'O')).toEqual({ profile: 'enseignant', staffFunction: null });
    expect(profileOfFunctions(['DIR'], 'N')).toEqual({ profile: 'personnel', staffFunction: 'direction' });
    expect(profileOfFunctions(['EDU'], 'N')).toEqual({ profile: 'personnel', staffFunction: 'cpe' });
    expect(profileOfFunctions(['DOC'], 'N')).toEqual({ profile: 'personnel', staffFunction: 'documentation' });
    expect(profileOfFunctions(['SUR'], 'N')).toEqual({ profile: 'personnel', staffFunction: 'vie_scolaire' });
    expect(profileOfFunctions(['ADF', 'MDS'], 'N')).toEqual({ profile: 'personnel', staffFunction: 'autre' });
    expect(profileOfFunctions(['ENS', 'DIR'], 'O')).toEqual({ profile: 'enseignant', staffFunction: 'direction' });
    expect(profileOfFunctions([], 'O')).toEqual({ profile: 'enseignant', staffFunction: null });
    expect(profileOfFunctions([], undefined)).toEqual({ profile: 'personnel', staffFunction: 'autre' });
  });

  it('guardians: legal when respLegal is 1 or 2, contacts kept, duplicates merged', () => {
    expect(mapGuardians('9', ['1$10$1$1$1$1', '2$20$0$0$1$0', '3$50$0$2$0$0', '1$10$0$0$0$0', '9$70$0$0$0$0'])).toEqual([
      { parentJointure: '1', legalGuardian: 1, relation: 'mere' },
      { parentJointure: '2', legalGuardian: 0, relation: 'pere' },
      { parentJointure: '3', legalGuardian: 1, relation: 'autre_lien' },
    ]);
  });

  it('teachings: subject rows, subject-less classes, principal', () => {
    const attrs = new Map([
      ['ENTAuxEnsClasses', ['1$6A', '1$6B', '1$6A']],
      ['ENTAuxEnsClassesMatieres', ['1$6A$061300']],
      ['ENTAuxEnsClassesPrincipal', ['1$6A', '1$5C']],
      ['ENTAuxEnsGroupesMatieres', ['1$LATIN$022400']],
    ]);
    expect(mapTeachings(attrs)).toEqual([
      { structure: '1', kind: 'class', code: '6A', subjectCode: '061300', principal: 1 },
      { structure: '1', kind: 'group', code: 'LATIN', subjectCode: '022400', principal: 0 },
      { structure: '1', kind: 'class', code: '6B', subjectCode: null, principal: 0 },
      { structure: '1', kind: 'class', code: '5C', subjectCode: null, principal: 1 },
    ]);
  });
});

describe('samples/aaf', () => {
  // The repository carries its own copy of the shared AAF samples (a fresh clone must test and demo
  // without ../shared); when the shared originals are on the machine, the copy must not have drifted.
  const shared = path.resolve('../shared/aaf');
  it.skipIf(!existsSync(shared))('is an exact copy of ../shared/aaf', () => {
    const list = (root: string) => readdirSync(root, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.relative(root, path.join(d.parentPath, d.name))).sort();
    expect(list(SAMPLES)).toEqual(list(shared));
    for (const f of list(shared)) expect(readFileSync(path.join(SAMPLES, f)).equals(readFileSync(path.join(shared, f))), f).toBe(true);
  });
});
