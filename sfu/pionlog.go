package sfu

import (
	"fmt"

	"github.com/pion/logging"
	"go.uber.org/zap"
)

// pionLoggerFactory routes Pion's logs into the server's zap logger, one level
// quieter than Pion's own: Pion's errors are often a peer going away.
type pionLoggerFactory struct{ log *zap.Logger }

func (f pionLoggerFactory) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{log: f.log.With(zap.String("scope", scope)).Sugar()}
}

type pionLogger struct{ log *zap.SugaredLogger }

func (l pionLogger) Trace(string)          {}
func (l pionLogger) Tracef(string, ...any) {}
func (l pionLogger) Debug(string)          {}
func (l pionLogger) Debugf(string, ...any) {}
func (l pionLogger) Info(msg string)       { l.log.Debug(msg) }
func (l pionLogger) Infof(f string, a ...any) {
	l.log.Debug(fmt.Sprintf(f, a...))
}
func (l pionLogger) Warn(msg string) { l.log.Info(msg) }
func (l pionLogger) Warnf(f string, a ...any) {
	l.log.Info(fmt.Sprintf(f, a...))
}
func (l pionLogger) Error(msg string) { l.log.Warn(msg) }
func (l pionLogger) Errorf(f string, a ...any) {
	l.log.Warn(fmt.Sprintf(f, a...))
}
