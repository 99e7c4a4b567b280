import { api } from '../../api/client.js';
import type { PlatformStatus } from '../../api/types.js';
import { platformStatus } from '../../app/state.js';

/**
 * The banner's source: GET /api/v1/status at start and then every few minutes, jittered so that a
 * country's worth of open tabs does not ask in step. The server caches it (5 s) and browsers may too.
 */
const STATUS_POLL_MS = 3 * 60_000;

export async function refreshStatus(): Promise<void> {
  try {
    platformStatus.set((await api<PlatformStatus>('GET', '/api/v1/status')).data);
  } catch {
    // No status is no news: the banner keeps what it showed; the page's own state says if Préau is unreachable.
  }
}

export function pollStatus(): void {
  const next = () => setTimeout(() => void refreshStatus().finally(next), STATUS_POLL_MS * (0.75 + Math.random() * 0.5));
  void refreshStatus().finally(next);
}
