// The fault proxy is itself under test: a chaos suite is only as good as the faults it injects.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFaultProxy, mulberry32, type FaultProxy } from '../support/fault-proxy.mjs';

let echo: net.Server;
let echoPort: number;

beforeAll(async () => {
  echo = net.createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((r) => echo.close(() => r()));
});

/** Connects through the proxy; resolves with the socket and everything it will receive. */
function dial(proxy: FaultProxy) {
  const socket = net.connect(proxy.port, '127.0.0.1');
  let received = '';
  socket.on('data', (d) => (received += d.toString()));
  const closed = new Promise<string>((resolve) => {
    socket.on('error', () => {});
    socket.on('close', () => resolve(received));
  });
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const got = (text: string) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (received.includes(text)) {
          socket.off('data', check);
          resolve();
        }
      };
      socket.on('data', check);
      check();
    });
  return { socket, closed, connected, got, text: () => received };
}

describe('fault proxy', () => {
  it('draws the same fault schedule from the same seed', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xs = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(xs);
    expect(Array.from({ length: 5 }, c)).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('forwards bytes both ways, keeps order under delay, and cuts', async () => {
    const proxy = await createFaultProxy({ targetPort: echoPort, seed: 1 });
    try {
      const c = dial(proxy);
      await c.connected;
      c.socket.write('a');
      await c.got('a');
      proxy.setDelay(60);
      const t0 = Date.now();
      c.socket.write('b');
      while (proxy.stats.delayed === 0) await new Promise((r) => setImmediate(r));
      proxy.setDelay(0);
      c.socket.write('c'); // must not overtake the delayed 'b'
      await c.got('abc');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
      expect(c.text()).toBe('abc');
      proxy.cutAll();
      expect(await c.closed).toBe('abc');
    } finally {
      await proxy.close();
    }
  });

  it('black-holes a connection: open, but nothing arrives', async () => {
    const proxy = await createFaultProxy({ targetPort: echoPort, seed: 2 });
    try {
      const c = dial(proxy);
      await c.connected;
      c.socket.write('x');
      await c.got('x');
      proxy.blackholeOne();
      c.socket.write('y');
      // The echo would answer within a millisecond or two; give it far longer.
      await new Promise((r) => setTimeout(r, 100));
      expect(c.text()).toBe('x');
      expect(c.socket.destroyed).toBe(false);
      c.socket.destroy();
    } finally {
      await proxy.close();
    }
  });

  it('deafens a connection: the server still gets what the client sends, nothing comes back', async () => {
    let serverGot = '';
    const sink = net.createServer((s) => {
      s.on('error', () => {});
      s.on('data', (d) => {
        serverGot += d.toString();
        s.write(`ack ${d.toString()}`);
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const proxy = await createFaultProxy({ targetPort: (sink.address() as net.AddressInfo).port, seed: 5 });
    try {
      const c = dial(proxy);
      await c.connected;
      c.socket.write('1');
      await c.got('ack 1');
      proxy.deafenAll();
      c.socket.write('2');
      while (!serverGot.includes('2')) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 50)); // the answer would be back by now
      expect(c.text()).toBe('ack 1');
      c.socket.destroy();
    } finally {
      await proxy.close();
      await new Promise<void>((r) => sink.close(() => r()));
    }
  });

  it('refuses new connections while the server is "down"', async () => {
    const proxy = await createFaultProxy({ targetPort: echoPort, seed: 3 });
    try {
      proxy.refuse(10_000);
      const c = dial(proxy);
      c.socket.write('z');
      expect(await c.closed).toBe('');
      expect(proxy.stats.refused).toBe(1);
      proxy.stopChaos();
      const d = dial(proxy);
      d.socket.write('ok');
      await d.got('ok');
      d.socket.destroy();
    } finally {
      await proxy.close();
    }
  });

  it('resets WebSocket upgrades when they are blocked, and lets plain requests through', async () => {
    const proxy = await createFaultProxy({ targetPort: echoPort, seed: 4 });
    try {
      proxy.blockUpgrades(true);
      const ws = dial(proxy);
      ws.socket.write('GET /rt/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
      expect(await ws.closed).toBe('');
      const plain = dial(proxy);
      plain.socket.write('GET /rt/sse HTTP/1.1\r\nHost: x\r\n\r\n');
      await plain.got('GET /rt/sse');
      plain.socket.destroy();
      expect(proxy.stats.upgradesBlocked).toBe(1);
    } finally {
      await proxy.close();
    }
  });
});
