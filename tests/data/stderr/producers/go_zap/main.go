// zap's production logger (JSON, "ts" in epoch seconds, "caller", "stacktrace" on errors) and its
// development logger (console encoder: tab-separated), both on stderr.
package main

import (
	"errors"

	"go.uber.org/zap"
)

func main() {
	production, _ := zap.NewProduction()
	production.Info("server started", zap.String("transport", "stdio"), zap.Int("tools", 3))
	production.Warn("slow upstream", zap.Duration("elapsed", 1532000000))
	production.Error("tool failed", zap.Error(errors.New("connection refused")), zap.String("tool", "get_alerts"))
	production.Sync()

	development, _ := zap.NewDevelopment()
	development.Debug("tools registered", zap.Int("count", 3))
	development.Info("server started")
	development.Sync()
}
