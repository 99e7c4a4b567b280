import type { Logger } from '../../platform/logger.js';
import type { ChallengeGate, ChallengeMode } from '../challenge/challenge-gate.js';
import type { SharedState } from '../shared/edge-redis.js';
import type { EdgeControls } from './controls.js';

/** The operator's switches that live in memory on each node (the banner is in the database already). */
export interface Switches {
  crisisMode: boolean;
  challengeMode: ChallengeMode;
  challengeBits: number;
  franceNetworks: string[];
}

const MODES: readonly string[] = ['off', 'auto', 'always'];

/** Pure: a stored value is taken only if it is exactly a Switches (a bad value changes nothing). */
export function parseSwitches(json: string): Switches | undefined {
  try {
    const v = JSON.parse(json) as Partial<Switches>;
    if (typeof v.crisisMode !== 'boolean' || typeof v.challengeMode !== 'string' || !MODES.includes(v.challengeMode) || typeof v.challengeBits !== 'number') return undefined;
    if (!Array.isArray(v.franceNetworks) || v.franceNetworks.length > 1_000 || !v.franceNetworks.every((n) => typeof n === 'string' && n.length < 64)) return undefined;
    return v as Switches;
  } catch {
    return undefined;
  }
}

/**
 * Several nodes: a switch set on one node (PUT /api/v1/admin/edge reaches one node) is written to
 * Redis, and every node reads it every `everyMs` and applies what changed. While Redis is away each
 * node keeps the switches it has (fails open to the last known state; set again on each node if needed).
 */
export class SharedSwitches {
  private lastJson: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly key: string;

  constructor(
    private readonly shared: SharedState,
    private readonly controls: EdgeControls,
    private readonly challenge: ChallengeGate,
    private readonly logger: Logger,
    private readonly everyMs = 2_000,
  ) {
    this.key = `${shared.prefix}operator:switches`;
  }

  private current(): Switches {
    return { crisisMode: this.controls.crisisMode, challengeMode: this.challenge.settings.mode, challengeBits: this.challenge.settings.bits, franceNetworks: [...this.controls.franceNetworks] };
  }

  /** After the operator changed a switch here: every node follows within `everyMs`. */
  async publish(): Promise<void> {
    const json = JSON.stringify(this.current());
    this.lastJson = json;
    await this.shared.run((r) => r.set(this.key, json));
  }

  /** Reads the shared switches and applies them if they changed (the timer's work; tests call it). */
  async poll(): Promise<void> {
    const json = await this.shared.run((r) => r.get(this.key));
    if (typeof json !== 'string' || json === this.lastJson) return;
    this.lastJson = json;
    const s = parseSwitches(json);
    if (!s) return void this.logger.warn('réglages de l’entrée illisibles dans Redis : ignorés');
    await this.controls.setCrisisMode(s.crisisMode);
    this.challenge.setMode(s.challengeMode);
    this.challenge.setBits(s.challengeBits);
    this.controls.setFranceNetworks(s.franceNetworks);
  }

  start(): void {
    this.stop();
    this.timer = setInterval(() => void this.poll().catch((err: unknown) => this.logger.debug({ err }, 'réglages partagés non lus')), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
