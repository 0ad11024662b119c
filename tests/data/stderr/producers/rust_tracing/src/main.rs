// tracing-subscriber's default fmt layer on stderr (ANSI colours on, as it writes them by default),
// with a span, fields after the message, and every level.
use tracing::{debug, error, info, info_span, trace, warn};

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::TRACE)
        .init();
    trace!("entering main");
    debug!(tools = 3, "tools registered");
    info!("Weather MCP server running on stdio");
    let span = info_span!("call_tool", tool = "get_alerts");
    let _guard = span.enter();
    warn!(elapsed_ms = 1532, "slow upstream, error: none");
    error!(error = "connection refused", "tool failed");
}
