/**
 * The only thing the tests replace: the network edge. Loaded into a process (jest, or n8n with
 * NODE_OPTIONS=--require), it routes the push providers' hostnames to the fake servers on
 * 127.0.0.1 and trusts the test CA for those connections only. The libraries (firebase-admin,
 * apns2, web-push) run unchanged and speak their real protocols to the fakes.
 *
 *   PUSH_TOKENS_FAKE_ROUTES='{"fcm.googleapis.com":"127.0.0.1:40001", ...}'
 *
 * One more adjustment: firebase-admin sends the HTTP/2 pseudo-header `:scheme` as "https:"
 * (with a colon). Google accepts it; Node's HTTP/2 server (our fake) rejects it as a protocol
 * error, so the client's value is normalised to "https" here.
 */
const fs = require('node:fs');
const path = require('node:path');
const tls = require('node:tls');
const http2 = require('node:http2');

const CA = fs.readFileSync(path.join(__dirname, 'certs/ca.crt'), 'utf8');
const TRUSTED = [...tls.rootCertificates, CA];

// The patch below is made once per process, but jest gives each test file its own `process.env`:
// the routes are read from the environment of the file that loaded this module last (shared
// through the real tls module), not from the first file's, whose fakes may be gone.
tls.__pushTokensEnv = process.env;
function routes() {
	try {
		return JSON.parse(tls.__pushTokensEnv.PUSH_TOKENS_FAKE_ROUTES || '{}');
	} catch {
		return {};
	}
}

function reroute(options) {
	const host = options.servername || options.host;
	const target = routes()[host];
	if (!target) return options;
	const [address, port] = target.split(':');
	return { ...options, host: address, port: Number(port), servername: host, ca: TRUSTED };
}

if (!tls.connect.__pushTokensFake) {
	const connect = tls.connect;
	// tls.connect(options[, cb]) | (port[, host][, options][, cb]) | (path[, options][, cb])
	tls.connect = function patchedConnect(...args) {
		let options;
		let callback;
		if (typeof args[0] === 'object' && args[0] !== null) {
			options = args[0];
			callback = args[1];
		} else {
			const [port, maybeHost, maybeOptions, maybeCb] = args;
			const host = typeof maybeHost === 'string' ? maybeHost : undefined;
			const rest = typeof maybeHost === 'string' ? [maybeOptions, maybeCb] : [maybeHost, maybeOptions];
			options = { ...(typeof rest[0] === 'object' ? rest[0] : {}), port, host };
			callback = [rest[0], rest[1]].find((a) => typeof a === 'function');
		}
		return connect.call(this, reroute(options), callback);
	};
	tls.connect.__pushTokensFake = true;

	const h2connect = http2.connect;
	http2.connect = function patchedHttp2Connect(...args) {
		const session = h2connect.apply(this, args);
		const request = session.request;
		session.request = function normalisedRequest(headers, ...rest) {
			if (headers && headers[':scheme'] === 'https:') headers = { ...headers, ':scheme': 'https' };
			return request.call(this, headers, ...rest);
		};
		return session;
	};
}
