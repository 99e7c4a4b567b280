import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { langOf, langOfHeader } from '../../http/request-context.js';
import { AppError } from '../../platform/errors.js';
import type { Metrics } from '../../platform/metrics.js';
import { networkOf } from '../address.js';
import { clientAddress } from '../client-address.js';
import type { Refusals } from '../refusal.js';
import type { BucketStore } from './bucket-store.js';
import type { BucketPolicy, TakeOutcome } from './token-bucket.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Tokens a request to this route costs (default 1): an export costs more than a page. */
    rateCost?: number;
  }
}

export type RateScope = 'address' | 'network' | 'account' | 'school' | 'auth_failures';

export type RateLimitSettings = Record<RateScope, BucketPolicy>;

/**
 * Generous on purpose: a school's NAT puts hundreds of pupils behind one address, so anonymous
 * traffic (login pages, logins) from one address may be a whole school; once signed in, people
 * are counted one by one (account) and school by school, never by address.
 */
export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  address: { name: 'address', ratePerS: 30, burst: 600 },
  network: { name: 'network', ratePerS: 100, burst: 3_000 },
  account: { name: 'account', ratePerS: 20, burst: 200 },
  school: { name: 'school', ratePerS: 3_000, burst: 15_000 },
  auth_failures: { name: 'auth-failures', ratePerS: 10, burst: 100 },
};

/** What the rate limiter needs to know of sessions (given by the HTTP auth layer). */
export interface SessionProbe {
  /** The request carries a session cookie (valid or not). */
  hasSessionCookie(request: FastifyRequest): boolean;
  /** The request's session cookie is one this node has recently resumed (a cheap, synchronous check). */
  isCachedSession(request: FastifyRequest): boolean;
  /** The session cookie's name, for the check made before routing on the raw `Cookie` header. */
  readonly cookieName: string;
}

interface Boxed {
  untilMs: number;
  fullAtMs: number;
}

/** Addresses and networks held in the penalty box at once, at most (beyond, refusals go through routing as before). */
const MAX_BOXED = 50_000;

/** Addresses watched for invented cookies at once, at most (beyond, the address and network buckets still apply). */
const MAX_FAILING_ADDRESSES = 100_000;

/** Errors that mean "this cookie opened no session": a flood of invented cookies is counted by them. */
const FAILED_AUTH = new Set(['auth.required', 'auth.csrf']);

const SCOPES: readonly RateScope[] = ['address', 'network', 'account', 'school', 'auth_failures'];

/**
 * Token buckets per client address, per network (/24, /48), per account and per school.
 * - A request without a session cookie is anonymous: charged to its address and network before
 *   anything else runs.
 * - A request with a cookie is charged after authentication: to the account and its school when
 *   the session is valid (300 pupils behind one NAT address are 300 accounts), to the address
 *   otherwise. Cookies that open no session are also counted per address (`auth_failures`); while
 *   that bucket is empty, only sessions this node already knows pass — invented cookies stop
 *   costing a database lookup each.
 * Fails closed for the client over its budget (429 + Retry-After + RateLimit headers) and open
 * for everything the store has forgotten (see MemoryBucketStore).
 */
export class RateLimiter {
  private readonly refused: Record<RateScope, number> = { address: 0, network: 0, account: 0, school: 0, auth_failures: 0 };
  private readonly policyHeader: Record<RateScope, string>;
  private readonly stores: Record<RateScope, BucketStore>;
  /** Addresses whose invented cookies have spent their budget, until it refills (bounded). */
  private readonly failingAddresses = new Map<string, number>();
  /**
   * The penalty box: addresses and networks whose anonymous budget is spent, until one token is
   * back. Their anonymous requests are refused before Fastify routes them (`refuseBeforeRouting`),
   * which is what keeps a refusal at a small fraction of a served page under a flood.
   */
  private readonly boxedAddresses = new Map<string, Boxed>();
  private readonly boxedNetworks = new Map<string, Boxed>();
  private refusedBeforeRouting = 0;
  private readonly cookiePrefix: string;

  constructor(
    readonly settings: RateLimitSettings,
    /** One store per scope: keys are then the bare address, account or school id (no string built per request). */
    makeStore: (scope: RateScope) => BucketStore,
    private readonly refusals: Refusals,
    private readonly probe: SessionProbe,
    metrics: Metrics,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.stores = Object.fromEntries(SCOPES.map((sc) => [sc, makeStore(sc)])) as Record<RateScope, BucketStore>;
    const c = metrics.trackedCounter('preau_edge_rate_limited_total', 'Requests refused by a rate limit, by scope');
    for (const s of SCOPES) c.track(() => this.refused[s], { scope: s });
    const buckets = metrics.gauge('preau_edge_rate_buckets', 'Rate-limit buckets held in memory, by scope');
    for (const sc of SCOPES) buckets.track(() => this.stores[sc].size(), { scope: sc });
    this.policyHeader = Object.fromEntries(SCOPES.map((s) => [s, policyHeader(settings[s])])) as Record<RateScope, string>;
    metrics.trackedCounter('preau_edge_refused_before_routing_total', 'Rate-limit refusals answered before routing (penalty box; also counted in preau_edge_rate_limited_total)').track(() => this.refusedBeforeRouting);
    metrics.gauge('preau_edge_penalty_box', 'Addresses and networks whose anonymous requests are refused before routing').track(() => this.boxedAddresses.size + this.boxedNetworks.size);
    this.cookiePrefix = `${probe.cookieName}=`;
  }

  /**
   * Called by the server for every request before Fastify sees it. True when the request was
   * refused here: anonymous (no session cookie — a signed-in pupil behind a flooding NAT is never
   * refused here), from an address or network in the penalty box. Costs two Map lookups when the
   * box is not empty, one size check when it is. Fails open: a request it cannot judge (a cookie
   * header that merely contains the name) goes through the normal path, which judges it exactly.
   */
  refuseBeforeRouting = (request: IncomingMessage, response: ServerResponse): boolean => {
    if (this.boxedAddresses.size === 0 && this.boxedNetworks.size === 0) return false;
    const cookie = request.headers.cookie;
    if (cookie !== undefined && cookie.includes(this.cookiePrefix)) return false;
    const address = clientAddress(request);
    const now = this.nowMs();
    let scope: RateScope = 'address';
    let boxed = this.boxedAddresses.get(address);
    if (boxed !== undefined && now >= boxed.untilMs) {
      this.boxedAddresses.delete(address);
      boxed = undefined;
    }
    if (boxed === undefined && this.boxedNetworks.size > 0) {
      const network = networkOf(address);
      boxed = this.boxedNetworks.get(network);
      scope = 'network';
      if (boxed !== undefined && now >= boxed.untilMs) {
        this.boxedNetworks.delete(network);
        boxed = undefined;
      }
    }
    if (boxed === undefined) return false;
    this.refused[scope]++;
    this.refusedBeforeRouting++;
    const retryAfterS = Math.ceil((boxed.untilMs - now) / 1000) + Math.floor(Math.random() * 3);
    this.refusals.send(response, 'edge.rate_limited', langOfHeader(request.headers['accept-language']), retryAfterS, {
      'ratelimit-policy': this.policyHeader[scope],
      ratelimit: `"${this.settings[scope].name}";r=0;t=${Math.ceil((boxed.fullAtMs - now) / 1000)}`,
    });
    return true;
  };

  /** Boxed until one token is back in a bucket that just refused (the bucket itself is not touched). */
  private box(map: Map<string, Boxed>, key: string, policy: BucketPolicy, outcome: TakeOutcome, now: number): void {
    if (map.size >= MAX_BOXED && !map.has(key)) return;
    map.set(key, { untilMs: now + Math.ceil(((1 - outcome.state.tokens) * 1000) / policy.ratePerS), fullAtMs: now + outcome.fullInMs });
  }

  private readonly hooks = new Map<number, { before: onRequestHookHandler; after: onRequestHookHandler }>();

  /**
   * The two hooks for a route of this cost (made once per cost: a route's cost is read when it is
   * registered, not per request). `before` goes first in the route's own chain (anonymous requests
   * pay before any work is done for them); `after` goes last, after authentication.
   */
  hooksFor(cost: number): { before: onRequestHookHandler; after: onRequestHookHandler } {
    let h = this.hooks.get(cost);
    if (!h) {
      h = { before: (q, r, d) => this.before(q, r, d, cost), after: (q, r, d) => this.after(q, r, d, cost) };
      this.hooks.set(cost, h);
    }
    return h;
  }

  private before(request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void, cost: number): void {
    if (!this.probe.hasSessionCookie(request)) {
      if (this.chargeAnonymous(request, reply, cost)) done();
      return;
    }
    // Almost always empty: a signed-in request pays one size check here, not a bucket lookup.
    if (this.failingAddresses.size > 0) {
      const address = clientAddress(request.raw);
      const until = this.failingAddresses.get(address);
      if (until !== undefined) {
        const now = this.nowMs();
        if (now >= until) this.failingAddresses.delete(address);
        else if (!this.probe.isCachedSession(request)) {
          const failures = this.stores.auth_failures.take(address, this.settings.auth_failures, 0, now);
          if (failures.remaining < 1) return this.refuse(request, reply, 'auth_failures', failures);
        }
      }
    }
    done();
  }

  /** Signed-in requests pay as an account and a school. */
  private after(request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void, cost: number): void {
    const auth = request.auth;
    if (!auth) {
      // Without a cookie it has paid already; with one that opened no session here, it pays as anonymous.
      if (!this.probe.hasSessionCookie(request) || this.chargeAnonymous(request, reply, cost)) done();
      return;
    }
    const now = this.nowMs();
    const account = this.stores.account.take(auth.person.id, this.settings.account, cost, now);
    if (!account.allowed) return this.refuse(request, reply, 'account', account);
    const schoolId = auth.person.school_id;
    if (schoolId) {
      const school = this.stores.school.take(schoolId, this.settings.school, cost, now);
      if (!school.allowed) return this.refuse(request, reply, 'school', school);
    }
    this.advertise(reply, 'account', account);
    done();
  }

  /** onError: a cookie that opened no session is counted against its address. */
  recordError(request: FastifyRequest, error: Error): void {
    if (!(error instanceof AppError) || !FAILED_AUTH.has(error.id) || !this.probe.hasSessionCookie(request)) return;
    const address = clientAddress(request.raw);
    const now = this.nowMs();
    const failures = this.stores.auth_failures.take(address, this.settings.auth_failures, 1, now);
    this.stores.address.take(address, this.settings.address, 1, now);
    // Out of budget: checked on this address's cookie requests until the bucket has refilled.
    if (failures.remaining < 1 && this.failingAddresses.size < MAX_FAILING_ADDRESSES) this.failingAddresses.set(address, now + failures.fullInMs);
  }

  /** True when allowed (the caller continues); otherwise the refusal has been sent. */
  private chargeAnonymous(request: FastifyRequest, reply: FastifyReply, cost: number): boolean {
    const address = clientAddress(request.raw);
    const now = this.nowMs();
    const a = this.stores.address.take(address, this.settings.address, cost, now);
    if (!a.allowed) {
      this.box(this.boxedAddresses, address, this.settings.address, a, now);
      this.refuse(request, reply, 'address', a);
      return false;
    }
    const network = networkOf(address);
    const n = this.stores.network.take(network, this.settings.network, cost, now);
    if (!n.allowed) {
      this.box(this.boxedNetworks, network, this.settings.network, n, now);
      this.refuse(request, reply, 'network', n);
      return false;
    }
    this.advertise(reply, 'address', a);
    return true;
  }

  /** RateLimit headers on success only once half the budget is spent: nothing to say (nor to pay for) before. */
  private advertise(reply: FastifyReply, scope: RateScope, outcome: TakeOutcome): void {
    if (outcome.remaining * 2 >= this.settings[scope].burst) return;
    reply.header('ratelimit-policy', this.policyHeader[scope]);
    reply.header('ratelimit', rateLimitHeader(this.settings[scope], outcome));
  }

  private refuse(request: FastifyRequest, reply: FastifyReply, scope: RateScope, outcome: TakeOutcome): void {
    this.refused[scope]++;
    reply.hijack();
    if (reply.raw.destroyed) return;
    // Jitter: a second or two more for some, so that the clients refused together do not return together.
    const retryAfterS = Math.ceil(outcome.retryAfterMs / 1000) + Math.floor(Math.random() * 3);
    this.refusals.send(reply.raw, 'edge.rate_limited', langOf(request), retryAfterS, {
      'ratelimit-policy': this.policyHeader[scope],
      ratelimit: rateLimitHeader(this.settings[scope], outcome),
    });
  }
}

/** `RateLimit-Policy` (IETF httpapi draft): quota = the burst, window = the time to refill it. */
function policyHeader(p: BucketPolicy): string {
  return `"${p.name}";q=${p.burst};w=${Math.ceil(p.burst / p.ratePerS)}`;
}

function rateLimitHeader(p: BucketPolicy, o: TakeOutcome): string {
  return `"${p.name}";r=${o.remaining};t=${Math.ceil(o.fullInMs / 1000)}`;
}
