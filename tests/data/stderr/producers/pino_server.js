// pino (JSON lines, numeric levels) on stderr, as an MCP server on Node writes it: a child logger,
// every level, an Error logged under "err", then console.error of an Error with a cause.
const pino = require("pino");

const log = pino({ level: "trace", name: "weather-server" }, pino.destination(2));
const tools = log.child({ component: "tools" });

log.trace("entering main");
log.debug({ tools: 3 }, "tools registered");
log.info("Weather MCP Server running on stdio");
tools.warn({ tool: "get_forecast", elapsedMs: 1532 }, "slow upstream, error: none");
const error = new TypeError("fetch failed");
error.code = "ECONNREFUSED";
tools.error({ err: error, tool: "get_alerts" }, "tool failed");
log.fatal("cannot continue");
log.flush();
console.error(new Error("request aborted", { cause: new Error("socket hang up") }));
