/**
 * A WebSocket client that vanished without a FIN (a closed laptop, a NAT that forgot the
 * connection) answers nothing: the hub drops it after `clientTimeout`, while a live client, whose
 * WebSocket answers protocol pings by itself, stays.
 */
import { afterEach, expect, it } from 'vitest';
import { openWs, startHub, waitFor } from './helpers';

const hubs: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const hub of hubs.splice(0)) await hub.close();
});

it('drops a client that answers nothing for clientTimeout, keeps one that answers pings', async () => {
  const { hub, wsUrl } = await startHub({ heartbeat: 50, clientTimeout: 400 });
  hubs.push(hub);
  const gone = await openWs(`${wsUrl}?cid=gone`);
  const live = await openWs(`${wsUrl}?cid=live`);
  await gone.until((m) => m[0]?.type === 'hello');
  await live.until((m) => m[0]?.type === 'hello');
  // Stop reading: no frame, no pong leaves this client any more (its socket is not even read).
  (gone.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const started = Date.now();
  await waitFor(() => hub.connections().every((c) => !c.req.url?.includes('cid=gone')), 5000);
  expect(Date.now() - started).toBeGreaterThanOrEqual(350);
  // The live client sent nothing itself; its WebSocket answered the protocol pings.
  expect(hub.connections().filter((c) => c.req.url?.includes('cid=live'))).toHaveLength(1);
  live.ws.close();
});
