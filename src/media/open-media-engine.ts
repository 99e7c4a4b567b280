/**
 * Picks the classe virtuelle's media engine from the configuration (`PREAU_MEDIA_ENGINE`): the
 * embedded SFU by default, the Janus adapter when given (its module provides the factory, so this
 * file does not depend on it), or none.
 */
import type { Config } from '../config/config.js';
import { EmbeddedMediaEngine } from './embedded/embedded-engine.js';
import { MediaEngineError, type MediaEngine } from './media-engine.js';

export interface MediaAdapters {
  janus?: () => MediaEngine;
}

export function openMediaEngine(config: Pick<Config, 'mediaEngine' | 'mediaWorkers' | 'mediaIcePorts'>, adapters: MediaAdapters = {}): MediaEngine | undefined {
  switch (config.mediaEngine) {
    case 'off':
      return undefined;
    case 'janus':
      if (!adapters.janus) throw new MediaEngineError('unavailable', 'PREAU_MEDIA_ENGINE=janus mais l’adaptateur Janus n’est pas fourni');
      return adapters.janus();
    case 'embedded':
      return new EmbeddedMediaEngine({ workers: config.mediaWorkers === 0 ? undefined : config.mediaWorkers, icePortRange: config.mediaIcePorts });
  }
}
