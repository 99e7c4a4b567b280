import dns from 'node:dns';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RTCPeerConnection } from 'werift';
import { noStunUnlessConfigured } from './werift-patches.js';

const loopback = { iceAdditionalHostAddresses: ['127.0.0.1'], iceUseIpv6: false, iceInterfaceAddresses: { udp4: '127.0.0.1' }, bundlePolicy: 'max-bundle' as const };

describe('werift patches', () => {
  afterEach(() => vi.restoreAllMocks());

  it('gathers without asking stun.l.google.com when no STUN server is configured', async () => {
    noStunUnlessConfigured();
    const lookup = vi.spyOn(dns.promises, 'lookup');
    const pc = new RTCPeerConnection({ ...loopback, iceServers: [] });
    try {
      pc.addTransceiver('audio', { direction: 'sendrecv' });
      await pc.setLocalDescription(await pc.createOffer());
      expect(pc.iceGatheringState).toBe('complete');
      expect(lookup.mock.calls.map((c) => c[0])).not.toContain('stun.l.google.com');
      expect(pc.localDescription?.sdp).not.toContain('typ srflx');
    } finally {
      await pc.close();
    }
  });

});
