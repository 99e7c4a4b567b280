/**
 * Corrections to werift 0.24.4 (pinned: 0.25 needs Node 22) applied at run time, each with the
 * reason and how to see it, used by the SFU room and by the synthetic test client (werift too).
 */
import { Connection } from 'werift';

interface IceAgent {
  options: { stunServer?: unknown };
  stunServer: unknown;
  gatherCandidates(): Promise<void>;
}

let stunPatched = false;

/**
 * werift's ICE agent (`Connection`) falls back to stun.l.google.com:19302 when no STUN server is
 * configured (`iceServers: []`, or TURN only) and queries it while gathering, for every host
 * address: a DNS lookup plus a STUN request, awaited up to 5 s by `setLocalDescription`. Three harms:
 * - join time: when the lookup or the request is not answered at once (no Internet, a resolver
 *   that drops a burst of 60 lookups, UDP 19302 blocked by a school's firewall), the offer — and on
 *   the client side the answer — waits the full 5 s. This was the 5 s steps of the classroom bench's
 *   late joiners (`npm run bench:classroom -- --join-only`: `join` and `answer` steps of 5.2–5.3 s);
 * - privacy: a pupil's connection must not reach a third party nobody configured (docs/SECURITY.md);
 * - a server-reflexive candidate nobody asked for.
 * With the patch, an agent without a configured STUN server gathers host candidates (and TURN
 * relays when configured) only; a configured STUN server is queried as before.
 */
export function noStunUnlessConfigured(): void {
  if (stunPatched) return;
  stunPatched = true;
  const proto = Connection.prototype as unknown as IceAgent;
  const original = proto.gatherCandidates;
  proto.gatherCandidates = function (this: IceAgent) {
    if (this.options.stunServer === undefined) this.stunServer = undefined;
    return original.call(this);
  };
}

interface IceTransportInternals {
  state: string;
  connection: { nominated?: unknown; remoteUsername?: string; remotePassword?: string };
  start(): Promise<void>;
}
interface PeerInternals {
  iceTransports?: IceTransportInternals[];
  dtlsTransports?: { state: string; iceTransport: IceTransportInternals }[];
}

/**
 * werift 0.24.4 never runs ICE checks after an ICE restart: `RTCPeerConnection.connect()` (run when
 * the answer is applied, on both sides) returns early when the DTLS transport is still connected —
 * which it is after a restart, DTLS and SRTP being kept — before starting the ICE transport. Its
 * agent was reset by the restart (new credentials, no nominated pair), so nothing is checked,
 * nothing is nominated, and every packet is dropped (`send` needs a nominated pair): media never
 * resumes, though both sides look "stable". Seen between two werift peers (the engine and the
 * synthetic client); browsers run their own checks, but the engine's side needs them too.
 *
 * Call after the description that completes a restart has been applied (the engine: the answer;
 * a werift client: its own answer): starts the checks of every ICE transport whose DTLS is
 * connected but whose agent has no nominated pair. Returns how many were started.
 */
export function resumeIceAfterRestart(pc: unknown): number {
  const transports = (pc as PeerInternals).dtlsTransports ?? [];
  let started = 0;
  for (const dtls of transports) {
    const ice = dtls.iceTransport;
    if (dtls.state !== 'connected' || ice.connection.nominated !== undefined) continue;
    if (ice.state === 'connected' || ice.state === 'checking' || ice.state === 'closed') continue;
    if (!ice.connection.remoteUsername || !ice.connection.remotePassword) continue;
    started += 1;
    ice.start().catch(() => undefined);
  }
  return started;
}
