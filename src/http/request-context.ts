import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Lang } from '../platform/errors.js';

/**
 * What every route declares about itself. `criticality` is how the crisis-morning edge
 * sorts traffic: critical (an existing session reading today's work, handing in, joining a
 * starting class) is the last to wait; sheddable goes first.
 */
export type Criticality = 'critical' | 'normal' | 'login' | 'sheddable';

export interface RouteMeta {
  criticality: Criticality;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    criticality?: Criticality;
    /** The route checks a password (login, activation): new visitors pass the waiting room first. */
    passwordCheck?: boolean;
    /** A write that stays open in read-only mode (sign in and out, the operator's switches): see read-only.ts. */
    duringReadOnly?: boolean;
  }
}

export function langOf(request: FastifyRequest): Lang {
  return langOfHeader(request.headers['accept-language']);
}

/** French unless English is explicitly preferred over French (also for raw Node requests, before routing). */
export function langOfHeader(header: string | string[] | undefined): Lang {
  if (typeof header !== 'string') return 'fr';
  const first = header.split(',')[0]?.trim().toLowerCase() ?? '';
  return first.startsWith('en') ? 'en' : 'fr';
}

export function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store');
}

/** The client's address (behind trusted proxies, the one they vouch for): the only way features read it. */
export { clientAddress } from '../edge/client-address.js';
