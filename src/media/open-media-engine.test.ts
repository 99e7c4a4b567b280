import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/config.js';
import type { MediaEngine } from './media-engine.js';
import { openMediaEngine } from './open-media-engine.js';

describe('openMediaEngine', () => {
  it('opens nothing when off, the given Janus adapter when janus, and refuses janus without one', () => {
    expect(openMediaEngine({ ...defaultConfig(), mediaEngine: 'off' })).toBeUndefined();
    const janus = { name: 'janus' } as MediaEngine;
    expect(openMediaEngine({ ...defaultConfig(), mediaEngine: 'janus' }, { janus: () => janus })).toBe(janus);
    expect(() => openMediaEngine({ ...defaultConfig(), mediaEngine: 'janus' })).toThrow(/Janus/);
  });

  it('opens the embedded engine with the configured workers', async () => {
    const engine = openMediaEngine({ ...defaultConfig(), mediaWorkers: 1, mediaIcePorts: [42_500, 42_599] });
    try {
      expect(engine?.name).toBe('embedded');
      expect(engine?.load().workers).toHaveLength(1);
    } finally {
      await engine?.close();
    }
  });
});
