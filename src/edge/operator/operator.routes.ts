import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HttpAuth } from '../../http/auth.js';
import { noStore } from '../../http/request-context.js';
import { AppError } from '../../platform/errors.js';
import type { Metrics } from '../../platform/metrics.js';
import type { ChallengeGate, ChallengeMode } from '../challenge/challenge-gate.js';
import { MAX_BITS } from '../challenge/proof-of-work.js';
import type { EdgeControls } from './controls.js';
import type { SharedSwitches } from './shared-switches.js';
import type { StatusService } from '../../modules/status/index.js';
import { OPERATOR_PAGE_CSS, OPERATOR_PAGE_HTML, OPERATOR_PAGE_JS } from './operator-page.js';

export const EdgeSettingsBody = Type.Object(
  {
    crisisMode: Type.Optional(Type.Boolean()),
    challengeMode: Type.Optional(Type.Union([Type.Literal('off'), Type.Literal('auto'), Type.Literal('always')])),
    challengeBits: Type.Optional(Type.Integer({ minimum: 8, maximum: MAX_BITS })),
    banner: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
    franceNetworks: Type.Optional(Type.Array(Type.String({ minLength: 2, maxLength: 64, pattern: '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$' }), { maxItems: 1_000 })),
  },
  { additionalProperties: false },
);
export type EdgeSettingsBody = Static<typeof EdgeSettingsBody>;

/** The series the operator page shows: the edge's own, never the whole registry. */
const SHOWN = /^preau_(edge|waiting_room|challenges?|stuffing|password)_/;

export interface OperatorDeps {
  auth: HttpAuth;
  controls: EdgeControls;
  challenge: ChallengeGate;
  metrics: Metrics;
  /** The one incident banner (shared by every node through the database; shown by the web client from GET /api/v1/status). */
  status: StatusService;
  /** Several nodes: the switches set here are shared (see shared-switches.ts). */
  switches?: SharedSwitches | undefined;
}

/**
 * The operator's view of the edge: live figures and the switches of the crisis morning (crisis
 * mode, challenge level, incident banner). Platform administrators only; writes carry the CSRF
 * token like every cookie-authenticated write.
 */
export function registerOperatorRoutes(app: FastifyInstance, { auth, controls, challenge, metrics, status, switches }: OperatorDeps): void {
  const platformAdmin = async (request: FastifyRequest) => {
    if (request.auth?.person.profile !== 'admin_plateforme') throw new AppError('access.forbidden');
  };
  const state = async () => ({
    crisisMode: controls.crisisMode,
    challengeMode: challenge.settings.mode,
    challengeBits: challenge.settings.bits,
    banner: (await status.current()).incident,
    franceNetworks: [...controls.franceNetworks],
    notices: controls.operatorNotices,
    series: metrics
      .render()
      .split('\n')
      .filter((l) => SHOWN.test(l) && !l.includes('_bucket{'))
      .map((l) => {
        const i = l.lastIndexOf(' ');
        return { series: l.slice(0, i), value: Number(l.slice(i + 1)) };
      }),
  });

  app.get('/api/v1/admin/edge', { config: { criticality: 'critical' }, onRequest: auth.authenticate, preHandler: platformAdmin }, async (_request, reply) => noStore(reply).send(await state()));

  app.put<{ Body: EdgeSettingsBody }>(
    '/api/v1/admin/edge',
    { schema: { body: EdgeSettingsBody }, config: { criticality: 'critical', duringReadOnly: true }, onRequest: auth.authenticate, preHandler: platformAdmin },
    async (request, reply) => {
      const b = request.body;
      if (b.crisisMode !== undefined) await controls.setCrisisMode(b.crisisMode);
      if (b.challengeMode !== undefined) challenge.setMode(b.challengeMode as ChallengeMode);
      if (b.challengeBits !== undefined) challenge.setBits(b.challengeBits);
      if (b.banner !== undefined) {
        const { readOnly } = await status.current();
        await status.update(request.auth!.person, { incident: b.banner, readOnly });
      }
      if (b.franceNetworks !== undefined) controls.setFranceNetworks(b.franceNetworks);
      await switches?.publish();
      request.log.warn({ by: request.auth!.person.id, change: { ...b, franceNetworks: b.franceNetworks?.length } }, 'réglages de l’entrée modifiés');
      return noStore(reply).send(await state());
    },
  );

  app.get('/admin/entree', { config: { criticality: 'critical' } }, (_request, reply) => {
    void reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(OPERATOR_PAGE_HTML);
  });
  app.get('/admin/entree.js', { config: { criticality: 'critical' } }, (_request, reply) => {
    void reply.header('cache-control', 'no-cache').type('text/javascript; charset=utf-8').send(OPERATOR_PAGE_JS);
  });
  app.get('/admin/entree.css', { config: { criticality: 'critical' } }, (_request, reply) => {
    void reply.header('cache-control', 'no-cache').type('text/css; charset=utf-8').send(OPERATOR_PAGE_CSS);
  });
}
