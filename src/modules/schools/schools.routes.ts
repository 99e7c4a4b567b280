import type { FastifyInstance } from 'fastify';
import type { HttpAuth } from '../../http/auth.js';
import { AppError } from '../../platform/errors.js';
import { noStore } from '../../http/request-context.js';
import { DOCUMENT_CSP } from '../../http/security-headers.js';
import type { IdentityService } from '../identity/index.js';
import type { SchoolsService } from './schools.service.js';
import { presentClass, presentPerson, presentPersonSummary, presentSchool, PROFILE_LABELS_FR } from './schools.presenter.js';
import { ActivationCodesBody, ClassParams, PersonParams, SchoolParams, SMALL_BODY_BYTES } from './schools.schema.js';
import { ACTIVATION_SHEET_CSS, codesCsv, codesSheetHtml, type CodeLine } from './activation-sheet.js';

export interface SchoolsRouteDeps {
  schools: SchoolsService;
  identity: IdentityService;
  auth: HttpAuth;
  publicUrl: string;
}

export function registerSchoolsRoutes(app: FastifyInstance, { schools, identity, auth, publicUrl }: SchoolsRouteDeps): void {
  const scope = (personId: string) => schools.scopeOf(personId);

  app.get('/api/v1/schools', { config: { criticality: 'normal' }, onRequest: auth.authenticate }, async (request, reply) => {
    const list = await schools.listSchools(await scope(request.auth!.person.id));
    return noStore(reply).send({ schools: list.map(presentSchool) });
  });

  app.get<{ Params: SchoolParams }>('/api/v1/schools/:schoolId', { schema: { params: SchoolParams }, config: { criticality: 'normal' }, onRequest: auth.authenticate }, async (request, reply) => {
    const school = await schools.getSchool(await scope(request.auth!.person.id), request.params.schoolId);
    return noStore(reply).send({ school: presentSchool(school) });
  });

  app.get<{ Params: SchoolParams }>(
    '/api/v1/schools/:schoolId/overview',
    { schema: { params: SchoolParams }, config: { criticality: 'normal' }, onRequest: auth.authenticate },
    async (request, reply) => {
      const o = await schools.schoolOverview(await scope(request.auth!.person.id), request.params.schoolId);
      return noStore(reply).send({ school: presentSchool(o.school), classCount: o.classCount, people: o.counts });
    },
  );

  app.get<{ Params: SchoolParams }>(
    '/api/v1/schools/:schoolId/classes',
    { schema: { params: SchoolParams }, config: { criticality: 'normal' }, onRequest: auth.authenticate },
    async (request, reply) => {
      const { classes, groups } = await schools.listClasses(await scope(request.auth!.person.id), request.params.schoolId);
      return noStore(reply).send({ classes: classes.map(presentClass), groups: groups.map((g) => presentClass({ ...g, mef_code: null })) });
    },
  );

  app.get<{ Params: ClassParams }>('/api/v1/classes/:classId', { schema: { params: ClassParams }, config: { criticality: 'normal' }, onRequest: auth.authenticate }, async (request, reply) => {
    const c = await schools.getClass(await scope(request.auth!.person.id), request.params.classId);
    return noStore(reply).send({ class: presentClass(c) });
  });

  app.get<{ Params: ClassParams }>(
    '/api/v1/classes/:classId/pupils',
    { schema: { params: ClassParams }, config: { criticality: 'normal' }, onRequest: auth.authenticate },
    async (request, reply) => {
      const r = await schools.classPupils(await scope(request.auth!.person.id), request.params.classId);
      return noStore(reply).send({ class: presentClass(r.class), pupils: r.pupils.map(presentPersonSummary) });
    },
  );

  app.get<{ Params: PersonParams }>('/api/v1/people/:personId', { schema: { params: PersonParams }, config: { criticality: 'normal' }, onRequest: auth.authenticate }, async (request, reply) => {
    const r = await schools.getPerson(await scope(request.auth!.person.id), request.params.personId);
    return noStore(reply).send({ person: presentPerson(r.person, r.memberships) });
  });

  app.get('/api/v1/me/children', { config: { criticality: 'critical' }, onRequest: auth.authenticate }, async (request, reply) => {
    const children = await schools.children(await scope(request.auth!.person.id));
    return noStore(reply).send({ children: children.map((c) => ({ id: c.id, firstName: c.first_name, lastName: c.last_name, legalGuardian: c.legal_guardian === 1 })) });
  });

  app.post<{ Params: ClassParams; Body: ActivationCodesBody }>(
    '/api/v1/classes/:classId/activation-codes',
    { schema: { params: ClassParams, body: ActivationCodesBody }, bodyLimit: SMALL_BODY_BYTES, config: { criticality: 'sheddable', rateCost: 20 }, onRequest: auth.authenticate },
    async (request, reply) => {
      const actor = await scope(request.auth!.person.id);
      const { include = 'pupils', includeActive = false, format = 'json' } = request.body;
      const target = await schools.accountsOfClass(actor, request.params.classId, include);
      const eligible = <T extends { status: string }>(people: T[]) => people.filter((p) => p.status === 'pending_activation' || (includeActive && p.status === 'active'));
      const pupils = eligible(target.pupils);
      // A parent of two children in the class gets one code, printed for the first child.
      const parentsById = new Map<string, (typeof target.parents)[number]>();
      for (const p of eligible(target.parents)) if (!parentsById.has(p.id)) parentsById.set(p.id, p);
      const issued = await identity.issueActivationCodes(actor.id, [...pupils, ...parentsById.values()], { reset: false });
      const childName = new Map(target.pupils.map((p) => [p.id, `${p.first_name} ${p.last_name}`]));
      const lines: CodeLine[] = issued.map(({ person, code, expiresAt }) => ({
        className: target.class.name,
        lastName: person.last_name,
        firstName: person.first_name,
        profile: PROFILE_LABELS_FR[person.profile],
        login: person.login,
        code,
        expiresAt,
        ...(person.profile === 'parent' ? { childName: childName.get(parentsById.get(person.id)!.child_id) ?? '' } : {}),
      }));
      noStore(reply);
      if (format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="codes-${target.class.code.replace(/[^\w-]/g, '_')}.csv"`)
          .send(codesCsv(lines));
      }
      if (format === 'html') {
        const school = await schools.getSchool(actor, target.class.school_id);
        // A document (printed from the browser), not API data: it gets the document policy, which lets its stylesheet load.
        return reply.type('text/html; charset=utf-8').header('content-security-policy', DOCUMENT_CSP).send(codesSheetHtml(lines, school.name, publicUrl));
      }
      return reply.send({ class: presentClass(target.class), codes: lines.map((l, i) => ({ personId: issued[i]!.person.id, ...l, expiresAt: new Date(l.expiresAt).toISOString() })) });
    },
  );

  app.post<{ Params: PersonParams }>(
    '/api/v1/people/:personId/password-reset',
    { schema: { params: PersonParams }, bodyLimit: SMALL_BODY_BYTES, config: { criticality: 'normal' }, onRequest: auth.authenticate },
    async (request, reply) => {
      const actor = await scope(request.auth!.person.id);
      const person = await schools.manageablePerson(actor, request.params.personId);
      const [issued] = await identity.issueActivationCodes(actor.id, [person], { reset: true });
      if (!issued) throw new AppError('person.departed');
      return noStore(reply).send({ personId: person.id, login: person.login, code: issued.code, expiresAt: new Date(issued.expiresAt).toISOString() });
    },
  );

  app.get('/assets/activation-sheet.css', { config: { criticality: 'sheddable' } }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=86400').send(ACTIVATION_SHEET_CSS),
  );
}
