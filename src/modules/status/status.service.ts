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
  private cached: { value: StoredStatus; json: string; readOnlyJson: string; atMs: number } | undefined;

  constructor(
    private readonly repo: StatusRepository,
    private readonly clock: Clock,
    /** The node's automatic read-only state (storage/health.ts): shown in the public status as read-only, never stored. */
    private readonly automaticReadOnly: () => boolean = () => false,
  ) {}

  /** The public status as JSON text when a fresh copy is held (synchronous: no promise on the hot path). */
  cachedJson(): string | undefined {
    const c = this.cached;
    return c && this.clock.nowMs() - c.atMs < STATUS_CACHE_TTL_MS ? this.publicJson(c) : undefined;
  }

  /**
   * The public status. When the database cannot be read (no server reachable at all), the last
   * status read is served, however old: the banner matters most when the database is away.
   */
  async currentJson(): Promise<string> {
    const fresh = this.cachedJson();
    if (fresh) return fresh;
    try {
      await this.current();
    } catch (err) {
      if (!this.cached) throw err;
    }
    return this.publicJson(this.cached!);
  }

  private publicJson(c: { json: string; readOnlyJson: string }): string {
    return this.automaticReadOnly() ? c.readOnlyJson : c.json;
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

  private remember(value: StoredStatus): void {
    this.cached = { value, json: JSON.stringify(value), readOnlyJson: JSON.stringify({ ...value, readOnly: true }), atMs: this.clock.nowMs() };
  }
}
