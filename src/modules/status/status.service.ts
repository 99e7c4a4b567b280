import type { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import type { Profile } from '../../storage/schema.js';
import { canOnStatus } from './status.policy.js';
import type { StatusRepository, StoredStatus } from './status.repository.js';

/**
 * Every page of every user asks for the status: it is read from the database at most this often
 * per node. A change made on this node shows at once; on another node within this delay (plus the
 * few seconds browsers may cache the answer).
 */
export const STATUS_CACHE_TTL_MS = 5_000;

/** The platform status banner: an incident message and the read-only flag, set by the platform operator. */
export class StatusService {
  private cached: { value: StoredStatus; json: string; atMs: number } | undefined;

  constructor(
    private readonly repo: StatusRepository,
    private readonly clock: Clock,
  ) {}

  /** The status as JSON text when a fresh copy is held (synchronous: no promise on the hot path). */
  cachedJson(): string | undefined {
    const c = this.cached;
    return c && this.clock.nowMs() - c.atMs < STATUS_CACHE_TTL_MS ? c.json : undefined;
  }

  async currentJson(): Promise<string> {
    return this.cachedJson() ?? this.remember(await this.repo.read());
  }

  async current(): Promise<StoredStatus> {
    const c = this.cached;
    if (c && this.clock.nowMs() - c.atMs < STATUS_CACHE_TTL_MS) return c.value;
    const value = await this.repo.read();
    this.remember(value);
    return value;
  }

  async update(actor: { id: string; profile: Profile }, status: StoredStatus): Promise<StoredStatus> {
    if (!canOnStatus(actor.profile, 'update')) throw new AppError('access.forbidden');
    const clean = { incident: status.incident?.trim() || null, readOnly: status.readOnly };
    await this.repo.write(clean, actor.id, this.clock.nowMs());
    this.remember(clean);
    return clean;
  }

  private remember(value: StoredStatus): string {
    const json = JSON.stringify(value);
    this.cached = { value, json, atMs: this.clock.nowMs() };
    return json;
  }
}
