// Go's slog from golang.org/x/exp/slog (Debian's Go here is 1.19, before log/slog joined the
// standard library; this early x/exp version spells levels DebugLevel and takes the error as an
// argument): the text handler (logfmt), then the JSON handler, both on stderr with source
// locations, then the standard log package's default format.
package main

import (
	"errors"
	"log"
	"os"

	"golang.org/x/exp/slog"
)

func main() {
	options := slog.HandlerOptions{AddSource: true, Level: slog.DebugLevel}
	text := slog.New(options.NewTextHandler(os.Stderr))
	text.Debug("tools registered", "count", 3)
	text.Info("server started", "transport", "stdio", "name", "weather server")
	text.Warn("slow upstream", "elapsed", "1.5s", "note", "said \"retry\"\tlater")
	text.Error("tool failed", errors.New("connection refused"), "tool", "get_alerts")
	text.Log(slog.ErrorLevel+2, "escalated")

	json := slog.New(options.NewJSONHandler(os.Stderr))
	json.Info("server started", "transport", "stdio")
	json.Error("tool failed", errors.New("connection refused"), "tool", "get_alerts")
	json.Log(slog.DebugLevel-4, "very detailed")

	log.SetOutput(os.Stderr)
	log.Printf("error connecting to upstream: %v", errors.New("timeout"))
	log.Printf("ERROR: giving up after %d attempts", 3)
}
