/**
 * The classroom bench's baseline, pinned on the server CPU: a bare UDP relay (node:dgram) that
 * fans every packet it receives out to every registered receiver — what an SFU does per packet,
 * minus everything that makes it WebRTC (ICE, DTLS, SRTP encryption and authentication, RTP header
 * rewriting, RTCP, NACK history, congestion feedback). The ratio of the two CPU costs per forwarded
 * packet is the price of the SFU over moving the same bytes.
 *
 * Control datagrams (ASCII): `REG` registers the sender as a receiver; `MS` starts a measurement;
 * `ME` ends it and answers the sender with `{"wallMs","cpuMs","forwarded"}`.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import { emit } from './protocol.js';

const socket = createSocket('udp4');
const receivers: { address: string; port: number }[] = [];
let forwarded = 0;
let from = { wall: performance.now(), cpu: process.cpuUsage(), forwarded: 0 };

socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
  if (msg.length <= 3) {
    const op = msg.toString('ascii');
    if (op === 'REG') receivers.push({ address: rinfo.address, port: rinfo.port });
    else if (op === 'MS') from = { wall: performance.now(), cpu: process.cpuUsage(), forwarded };
    else if (op === 'ME') {
      const cpu = process.cpuUsage(from.cpu);
      socket.send(JSON.stringify({ wallMs: performance.now() - from.wall, cpuMs: (cpu.user + cpu.system) / 1000, forwarded: forwarded - from.forwarded }), rinfo.port, rinfo.address);
    }
    return;
  }
  for (const r of receivers) {
    socket.send(msg, r.port, r.address);
    forwarded += 1;
  }
});

socket.bind(0, '127.0.0.1', () => emit({ type: 'ready', port: socket.address().port }));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
