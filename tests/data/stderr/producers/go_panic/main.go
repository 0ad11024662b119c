// A Go runtime panic (index out of range) kills the server: the runtime writes "panic:" and the
// goroutine dump to stderr, after one line of ordinary log output.
package main

import (
	"log"
	"os"
)

func pick(items []string, index int) string {
	return items[index]
}

func main() {
	log.SetOutput(os.Stderr)
	log.Print("Weather MCP server running on stdio")
	tools := []string{"get_forecast", "get_alerts"}
	log.Print(pick(tools, len(tools)+3))
}
