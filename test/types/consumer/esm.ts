// A strict TypeScript consumer of the published typings (dist/*.d.ts through the package's own
// `exports`), compiled by consumer.test.ts under several module settings. No casts anywhere.
import WebSocket from 'ws';
import { createClient, isSurewireError, type SurewireError } from 'surewire';
import { createHub, type HubMessage } from 'surewire/server';

type Chat = { message: { user: string; text: string } };

// A value restored from storage may be undefined (exactOptionalPropertyTypes).
const saved: string | undefined = globalThis.localStorage?.getItem('cursor') ?? undefined;

// Node: the `ws` class as the WebSocket option; the browser's own global too.
const client = createClient<Chat>({ url: 'http://127.0.0.1:8080/rt', WebSocket, lastEventId: saved, reconnect: { maxDelay: undefined } });
createClient({ url: '/rt', WebSocket: globalThis.WebSocket, autoConnect: false });

client.on('message', (data) => console.log(data.user, data.text));
client.onError((error: SurewireError) => console.log(isSurewireError(error), error.code));
void client.send('message', { user: 'ann', text: 'hi' });

const hub = createHub({ path: process.env.RT_PATH, onMessage: (msg: HubMessage) => hub.publish('message', msg.data) });
export { client, hub };
