import { createHash, createHmac, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import tls from 'node:tls';

/**
 * A minimal TURN client (RFC 5766/8656) for tests: Allocate with the long-term credential
 * mechanism (first request unauthenticated → 401 with realm and nonce → request again with
 * USERNAME, REALM, NONCE, MESSAGE-INTEGRITY), CreatePermission, and Refresh with lifetime 0 to
 * release, over UDP or TLS. Only what the coturn test needs; no retransmission beyond one timeout.
 */

const MAGIC = 0x2112a442;
const TYPE = { allocate: 0x0003, refresh: 0x0004, createPermission: 0x0008 } as const;
const ATTR = {
  username: 0x0006, messageIntegrity: 0x0008, errorCode: 0x0009, lifetime: 0x000d, xorPeerAddress: 0x0012,
  realm: 0x0014, nonce: 0x0015, xorRelayedAddress: 0x0016, requestedTransport: 0x0019,
} as const;
/** A TURN server that has not answered by then is a failure of the test, not a hang. */
const TURN_ANSWER_TIMEOUT_MS = 5_000;

export interface TurnAnswer {
  /** `success` or `error` (class 1 → 0x01xx success, 0x01xx|0x10 error). */
  ok: boolean;
  errorCode?: number;
  realm?: string;
  nonce?: string;
  relayed?: { address: string; port: number };
}

interface Transport {
  exchange(message: Buffer): Promise<Buffer>;
  close(): void;
}

function udpTransport(host: string, port: number): Transport {
  const socket = dgram.createSocket('udp4');
  return {
    exchange: (message) =>
      new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`pas de réponse TURN de ${host}:${port} (UDP)`)), TURN_ANSWER_TIMEOUT_MS);
        socket.once('message', (m) => {
          clearTimeout(timer);
          resolve(m);
        });
        socket.send(message, port, host);
      }),
    close: () => socket.close(),
  };
}

async function tlsTransport(host: string, port: number, ca: string | Buffer): Promise<Transport> {
  const socket = tls.connect({ host, port, ca, servername: 'localhost' });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  let buffered = Buffer.alloc(0);
  let waiting: ((m: Buffer) => void) | undefined;
  socket.on('data', (d: Buffer) => {
    buffered = Buffer.concat([buffered, d]);
    // STUN over a stream: each message's length is in its header (20 + length bytes).
    if (buffered.length >= 20) {
      const total = 20 + buffered.readUInt16BE(2);
      if (buffered.length >= total && waiting) {
        const m = buffered.subarray(0, total);
        buffered = buffered.subarray(total);
        const w = waiting;
        waiting = undefined;
        w(m);
      }
    }
  });
  return {
    exchange: (message) =>
      new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`pas de réponse TURN de ${host}:${port} (TLS)`)), TURN_ANSWER_TIMEOUT_MS);
        waiting = (m) => {
          clearTimeout(timer);
          resolve(m);
        };
        socket.write(message);
      }),
    close: () => socket.destroy(),
  };
}

function attribute(type: number, value: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(value.length, 2);
  const padding = Buffer.alloc((4 - (value.length % 4)) % 4);
  return Buffer.concat([header, value, padding]);
}

function message(type: number, attributes: Buffer[], integrityKey?: Buffer): Buffer {
  const transactionId = randomBytes(12);
  const body = Buffer.concat(attributes);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt32BE(MAGIC, 4);
  transactionId.copy(header, 8);
  if (!integrityKey) {
    header.writeUInt16BE(body.length, 2);
    return Buffer.concat([header, body]);
  }
  // MESSAGE-INTEGRITY covers the message with its length already counting the integrity attribute.
  header.writeUInt16BE(body.length + 24, 2);
  const mac = createHmac('sha1', integrityKey).update(Buffer.concat([header, body])).digest();
  return Buffer.concat([header, body, attribute(ATTR.messageIntegrity, mac)]);
}

function parse(m: Buffer): TurnAnswer {
  const type = m.readUInt16BE(0);
  const answer: TurnAnswer = { ok: (type & 0x0110) === 0x0100 };
  let offset = 20;
  const end = 20 + m.readUInt16BE(2);
  while (offset + 4 <= end) {
    const t = m.readUInt16BE(offset);
    const len = m.readUInt16BE(offset + 2);
    const v = m.subarray(offset + 4, offset + 4 + len);
    if (t === ATTR.errorCode) answer.errorCode = (v[2]! & 0x7) * 100 + v[3]!;
    else if (t === ATTR.realm) answer.realm = v.toString('utf8');
    else if (t === ATTR.nonce) answer.nonce = v.toString('utf8');
    else if (t === ATTR.xorRelayedAddress && v[1] === 0x01) {
      const port = v.readUInt16BE(2) ^ (MAGIC >>> 16);
      const ip = (v.readUInt32BE(4) ^ MAGIC) >>> 0;
      answer.relayed = { address: [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.'), port };
    }
    offset += 4 + len + ((4 - (len % 4)) % 4);
  }
  return answer;
}

function xorPeer(address: string, port: number): Buffer {
  const v = Buffer.alloc(8);
  v[1] = 0x01;
  v.writeUInt16BE(port ^ (MAGIC >>> 16), 2);
  const ip = address.split('.').reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
  v.writeUInt32BE((ip ^ MAGIC) >>> 0, 4);
  return v;
}

export class TurnTestClient {
  private realm = '';
  private nonce = '';

  private constructor(
    private readonly transport: Transport,
    private readonly username: string,
    private readonly password: string,
  ) {}

  static async connect(options: { host: string; port: number; tls?: { ca: string | Buffer }; username: string; password: string }): Promise<TurnTestClient> {
    const transport = options.tls ? await tlsTransport(options.host, options.port, options.tls.ca) : udpTransport(options.host, options.port);
    return new TurnTestClient(transport, options.username, options.password);
  }

  /** Allocate (UDP relay), going through the 401 challenge. The answer of the authenticated attempt. */
  async allocate(): Promise<TurnAnswer> {
    const transportAttr = attribute(ATTR.requestedTransport, Buffer.from([17, 0, 0, 0]));
    const challenge = parse(await this.transport.exchange(message(TYPE.allocate, [transportAttr])));
    if (challenge.ok || challenge.errorCode !== 401 || !challenge.realm || !challenge.nonce) return challenge;
    this.realm = challenge.realm;
    this.nonce = challenge.nonce;
    return this.authenticated(TYPE.allocate, [transportAttr]);
  }

  /** CreatePermission for a peer (after a successful allocate). */
  createPermission(address: string, port = 9): Promise<TurnAnswer> {
    return this.authenticated(TYPE.createPermission, [attribute(ATTR.xorPeerAddress, xorPeer(address, port))]);
  }

  /** Releases the allocation (Refresh with LIFETIME 0). */
  release(): Promise<TurnAnswer> {
    return this.authenticated(TYPE.refresh, [attribute(ATTR.lifetime, Buffer.from([0, 0, 0, 0]))]);
  }

  close(): void {
    this.transport.close();
  }

  private async authenticated(type: number, attributes: Buffer[]): Promise<TurnAnswer> {
    const key = createHash('md5').update(`${this.username}:${this.realm}:${this.password}`).digest();
    const auth = [attribute(ATTR.username, Buffer.from(this.username)), attribute(ATTR.realm, Buffer.from(this.realm)), attribute(ATTR.nonce, Buffer.from(this.nonce))];
    return parse(await this.transport.exchange(message(type, [...attributes, ...auth], key)));
  }
}
