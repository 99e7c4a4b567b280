import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HttpAuth } from '../../http/auth.js';
import { clientAddress, noStore } from '../../http/request-context.js';
import type { IdentityService, ClientInfo } from './identity.service.js';
import { presentMe, presentPreferences, presentSession } from './identity.presenter.js';
import { ActivateBody, AUTH_MAX_BODY_BYTES, ChangePasswordBody, LoginBody, PreferencesBody, SessionParams } from './identity.schema.js';

export interface IdentityRouteDeps {
  identity: IdentityService;
  auth: HttpAuth;
}

function client(request: FastifyRequest): ClientInfo {
  return { ip: clientAddress(request.raw), userAgent: request.headers['user-agent'] };
}

export function registerIdentityRoutes(app: FastifyInstance, { identity, auth }: IdentityRouteDeps): void {
  app.post<{ Body: LoginBody }>(
    '/api/v1/auth/login',
    { schema: { body: LoginBody }, bodyLimit: AUTH_MAX_BODY_BYTES, config: { criticality: 'login', passwordCheck: true, duringReadOnly: true }, onRequest: auth.sameOrigin },
    async (request, reply) => {
      const { login, password, remember } = request.body;
      const session = await identity.login(login, password, remember ?? false, client(request));
      auth.setSessionCookie(reply, session);
      return noStore(reply).send({ user: presentMe(session.person), csrfToken: identity.csrfTokenFor(session.session.id), session: presentSession(session.session, session.session.id) });
    },
  );

  app.post<{ Body: ActivateBody }>(
    '/api/v1/auth/activate',
    { schema: { body: ActivateBody }, bodyLimit: AUTH_MAX_BODY_BYTES, config: { criticality: 'login', passwordCheck: true, duringReadOnly: true }, onRequest: auth.sameOrigin },
    async (request, reply) => {
      const { login, code, password, remember } = request.body;
      const session = await identity.activate(login, code, password, remember ?? false, client(request));
      auth.setSessionCookie(reply, session);
      return noStore(reply).send({ user: presentMe(session.person), csrfToken: identity.csrfTokenFor(session.session.id), session: presentSession(session.session, session.session.id) });
    },
  );

  app.post('/api/v1/auth/logout', { bodyLimit: AUTH_MAX_BODY_BYTES, config: { criticality: 'normal', duringReadOnly: true }, onRequest: auth.authenticate }, async (request, reply) => {
    await identity.logout(request.auth!);
    auth.clearSessionCookie(reply);
    return reply.code(204).send();
  });

  app.get('/api/v1/me', { config: { criticality: 'critical' }, onRequest: auth.authenticate }, async (request, reply) => {
    const { person, session } = request.auth!;
    return noStore(reply).send({ user: presentMe(person), csrfToken: identity.csrfTokenFor(session.id) });
  });

  app.put<{ Body: ChangePasswordBody }>(
    '/api/v1/me/password',
    { schema: { body: ChangePasswordBody }, bodyLimit: AUTH_MAX_BODY_BYTES, config: { criticality: 'normal' }, onRequest: auth.authenticate },
    async (request, reply) => {
      await identity.changePassword(request.auth!, request.body.currentPassword, request.body.newPassword, client(request));
      return reply.code(204).send();
    },
  );

  // A write the web client may queue offline and send later with an Idempotency-Key.
  app.put<{ Body: PreferencesBody }>(
    '/api/v1/me/preferences',
    { schema: { body: PreferencesBody }, bodyLimit: AUTH_MAX_BODY_BYTES, config: { criticality: 'normal' }, onRequest: auth.authenticate },
    async (request, reply) => {
      const person = await identity.setPreferredLang(request.auth!, request.body.lang);
      return noStore(reply).send({ preferences: presentPreferences(person) });
    },
  );

  app.get('/api/v1/me/sessions', { config: { criticality: 'normal' }, onRequest: auth.authenticate }, async (request, reply) => {
    const { person, session } = request.auth!;
    const sessions = await identity.listSessions(person.id);
    return noStore(reply).send({ sessions: sessions.map((s) => presentSession(s, session.id)) });
  });

  app.delete<{ Params: SessionParams }>(
    '/api/v1/me/sessions/:sessionId',
    { schema: { params: SessionParams }, config: { criticality: 'normal' }, onRequest: auth.authenticate },
    async (request, reply) => {
      await identity.revokeSession(request.auth!.person.id, request.params.sessionId);
      if (request.params.sessionId === request.auth!.session.id) auth.clearSessionCookie(reply);
      return reply.code(204).send();
    },
  );
}
