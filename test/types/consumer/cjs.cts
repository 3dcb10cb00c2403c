// The same from a CommonJS file: `require` resolves to dist/*.cjs and dist/*.d.cts.
import WebSocket = require('ws');
import surewire = require('surewire');
import server = require('surewire/server');

const client = surewire.createClient({ url: 'http://127.0.0.1:8080/rt', WebSocket });
const hub = server.createHub({});
export = { client, hub };
