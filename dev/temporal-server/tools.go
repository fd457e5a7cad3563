//go:build tools

// Package tools pins the Temporal server, its SQL schema tool and the Web UI server, whose own
// commands ../../temporal-dev.sh builds into .dev/bin for DEV_TEMPORAL=server.
package tools

import (
	_ "github.com/temporalio/ui-server/v2/cmd/server"
	_ "go.temporal.io/server/cmd/server"
	_ "go.temporal.io/server/cmd/tools/sql"
)
