// Package mlog: logging-only stand-in for monis.app/mlog (see go.mod).
package mlog

import (
	"context"
	"fmt"
	"os"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
)

type LogLevel string
type LogFormat string

const (
	LevelWarning LogLevel = "warning"
	LevelInfo    LogLevel = "info"
	LevelDebug   LogLevel = "debug"
	LevelTrace   LogLevel = "trace"
	LevelAll     LogLevel = "all"

	FormatJSON LogFormat = "json"
	FormatCLI  LogFormat = "cli"
)

type LogSpec struct {
	Level  LogLevel
	Format LogFormat
}

var verbosity = map[LogLevel]int{LevelWarning: 0, LevelInfo: 0, LevelDebug: 4, LevelTrace: 6, LevelAll: 108}
var current = 0

var root = funcr.NewJSON(func(obj string) { fmt.Fprintln(os.Stderr, obj) }, funcr.Options{Verbosity: 108})

// Logger is the subset of mlog.Logger the webhook uses.
type Logger interface {
	Error(msg string, err error, keysAndValues ...any)
	Warning(msg string, keysAndValues ...any)
	Info(msg string, keysAndValues ...any)
	Debug(msg string, keysAndValues ...any)
	WithValues(keysAndValues ...any) Logger
	WithName(name string) Logger
}

type logger struct{ l logr.Logger }

func (x logger) Error(msg string, err error, kv ...any) { x.l.Error(err, msg, kv...) }
func (x logger) Warning(msg string, kv ...any)          { x.l.Info(msg, append(kv, "level", "warning")...) }
func (x logger) Info(msg string, kv ...any)             { x.l.Info(msg, kv...) }
func (x logger) Debug(msg string, kv ...any) {
	if Enabled(LevelDebug) {
		x.l.V(4).Info(msg, kv...)
	}
}
func (x logger) WithValues(kv ...any) Logger { return logger{x.l.WithValues(kv...)} }
func (x logger) WithName(name string) Logger { return logger{x.l.WithName(name)} }

func New() Logger      { return logger{root} }
func Logr() logr.Logger { return root }
func Setup() func()    { return func() {} }
func Fatal(err error) {
	root.Error(err, "fatal")
	os.Exit(1)
}
func Enabled(level LogLevel) bool { return verbosity[level] <= current }
func Error(msg string, err error, kv ...any) { New().Error(msg, err, kv...) }
func Warning(msg string, kv ...any)          { New().Warning(msg, kv...) }
func Info(msg string, kv ...any)             { New().Info(msg, kv...) }
func Debug(msg string, kv ...any)            { New().Debug(msg, kv...) }
func WithValues(kv ...any) Logger            { return New().WithValues(kv...) }
func WithName(name string) Logger            { return New().WithName(name) }

func ValidateAndSetLogLevelAndFormatGlobally(_ context.Context, spec LogSpec) error {
	if spec.Level == "" {
		current = 0
		return nil
	}
	v, ok := verbosity[spec.Level]
	if !ok {
		return fmt.Errorf("invalid log level %q", spec.Level)
	}
	current = v
	return nil
}
