package search

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Config is the resolved model and training configuration of one trial: the
// fixed settings of the spec with the trial's searched values applied. Its
// fields mirror nn.Config, so the orchestrator maps it field by field.
// Exactly one of Iterations and Epochs is positive.
type Config struct {
	Hidden      []int   // hidden layer sizes; [50] is the coursework's TwoLayerNet
	Activation  string  // relu | swish | tanh
	WeightScale float64 // weights ~ N(0, WeightScale²) when WeightInit is ""
	WeightInit  string  `json:",omitempty"` // "" (WeightScale) | he | xavier: weight_scale = "he"
	// Normalization is none | batchnorm | layernorm ("" in configs stored
	// before it existed: none).
	Normalization string    `json:",omitempty"`
	Dropout       []float64 `json:",omitempty"` // per hidden layer, or one value for all; nil: none
	Preprocess    string    `json:",omitempty"` // mean_image ("": the same) | standardize | none

	DType        string  // float32 | float64
	Optimizer    string  // sgd | momentum | rmsprop | adam
	LearningRate float64 // initial learning rate
	LRDecay      float64 // multiplies the learning rate once per epoch
	LRSchedule   string  `json:",omitempty"` // step ("": the same) | cosine
	WarmupEpochs int     `json:",omitempty"` // cosine only
	Patience     int     `json:",omitempty"` // early stopping; 0: none
	Reg          float64 // L2 strength (with the coursework's 0.5 factor)
	Momentum     float64 // momentum only
	Beta1        float64 // adam only
	Beta2        float64 // adam only
	Epsilon      float64 // rmsprop and adam
	DecayRate    float64 // rmsprop only

	BatchSize  int // minibatch size
	Iterations int // minibatch steps; 0 when Epochs is set
	Epochs     int // passes over the training data; 0 when Iterations is set
}

// MaxHidden bounds a hidden layer's size: a typo of a few extra digits is
// reported before anything runs, not met as an out-of-memory crash.
const MaxHidden = 1 << 16

// Defaults of the [model] and [train] keys: the coursework's.
const (
	DefaultIterations = 1000 // when neither iterations nor epochs is given
	DefaultMaxTrials  = 10000
	DefaultKeep       = 3
)

// DefaultConfig returns the settings of a spec that sets no [model] or
// [train] key.
func DefaultConfig() Config {
	return Config{
		Hidden:       []int{50},
		Activation:   "relu",
		WeightScale:  1e-4,
		DType:        "float32",
		Optimizer:    "sgd",
		LearningRate: 1e-3,
		LRDecay:      0.95,
		Reg:          0,
		Momentum:     0.9,
		Beta1:        0.9,
		Beta2:        0.999,
		Epsilon:      1e-8,
		DecayRate:    0.99,
		BatchSize:    200,
		Iterations:   DefaultIterations,
	}
}

// kind is the type of a parameter's values.
type kind int

const (
	kindFloat  kind = iota // float64
	kindInt                // int
	kindString             // string, one of enum
	kindHidden             // []int
)

func (k kind) String() string {
	switch k {
	case kindFloat:
		return "a number"
	case kindInt:
		return "an integer"
	case kindString:
		return "a string"
	}
	return "a list of integers"
}

// interval is the domain of a numeric parameter.
type interval struct {
	lo, hi         float64
	loOpen, hiOpen bool
}

var (
	positive    = interval{lo: 0, hi: math.Inf(1), loOpen: true, hiOpen: true}
	nonNegative = interval{lo: 0, hi: math.Inf(1), hiOpen: true}
	unitOpen    = interval{lo: 0, hi: 1, hiOpen: true} // [0, 1)
	decayDomain = interval{lo: 0, hi: 1, loOpen: true} // (0, 1]
)

func (d interval) contains(v float64) bool {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return false
	case v < d.lo || (d.loOpen && v == d.lo):
		return false
	case v > d.hi || (d.hiOpen && v == d.hi):
		return false
	}
	return true
}

// describe says what the domain wants of key, e.g. "want 0 < lr_decay <= 1".
func (d interval) describe(key string) string {
	lo, hi := "<=", "<="
	if d.loOpen {
		lo = "<"
	}
	if d.hiOpen {
		hi = "<"
	}
	if math.IsInf(d.hi, 1) {
		return fmt.Sprintf("want %s %s %s", key, strings.Replace(lo, "<", ">", 1), fmtFloat(d.lo))
	}
	return fmt.Sprintf("want %s %s %s %s %s", fmtFloat(d.lo), lo, key, hi, fmtFloat(d.hi))
}

// maxInt bounds every integer setting: sizes and counts far beyond any
// real sweep are mistakes, and the bound keeps products from overflowing.
const maxInt = 1<<31 - 1

// paramDef describes one [model] or [train] key: every one of them can be
// fixed or searched.
type paramDef struct {
	name       string
	section    string // "model" or "train"
	kind       kind
	enum       []string          // kindString: the allowed values
	domain     interval          // kindFloat, kindInt
	optimizers []string          // the optimizers that use it; nil: all
	field      func(*Config) any // the address of its Config field
}

// get returns the parameter's value in c.
func (p *paramDef) get(c *Config) any {
	switch f := p.field(c).(type) {
	case *float64:
		return *f
	case *int:
		return *f
	case *string:
		return *f
	case *[]int:
		return *f
	}
	panic("search: bad field of " + p.name) // programmer error
}

// set sets the parameter's value in c; v has the parameter's type.
func (p *paramDef) set(c *Config, v any) {
	switch f := p.field(c).(type) {
	case *float64:
		*f = v.(float64)
	case *int:
		*f = v.(int)
	case *string:
		*f = v.(string)
	case *[]int:
		*f = v.([]int)
	}
}

// params lists the searchable keys in canonical order: [model] then [train].
var params = []paramDef{
	{name: "hidden", section: "model", kind: kindHidden,
		field: func(c *Config) any { return &c.Hidden }},
	{name: "activation", section: "model", kind: kindString, enum: []string{"relu", "swish"},
		field: func(c *Config) any { return &c.Activation }},
	{name: "weight_scale", section: "model", kind: kindFloat, domain: positive,
		field: func(c *Config) any { return &c.WeightScale }},
	{name: "dtype", section: "train", kind: kindString, enum: []string{"float32", "float64"},
		field: func(c *Config) any { return &c.DType }},
	{name: "optimizer", section: "train", kind: kindString, enum: []string{"sgd", "momentum", "rmsprop", "adam"},
		field: func(c *Config) any { return &c.Optimizer }},
	{name: "iterations", section: "train", kind: kindInt, domain: positive,
		field: func(c *Config) any { return &c.Iterations }},
	{name: "epochs", section: "train", kind: kindInt, domain: positive,
		field: func(c *Config) any { return &c.Epochs }},
	{name: "batch_size", section: "train", kind: kindInt, domain: positive,
		field: func(c *Config) any { return &c.BatchSize }},
	{name: "learning_rate", section: "train", kind: kindFloat, domain: positive,
		field: func(c *Config) any { return &c.LearningRate }},
	{name: "lr_decay", section: "train", kind: kindFloat, domain: decayDomain,
		field: func(c *Config) any { return &c.LRDecay }},
	{name: "reg", section: "train", kind: kindFloat, domain: nonNegative,
		field: func(c *Config) any { return &c.Reg }},
	{name: "momentum", section: "train", kind: kindFloat, domain: unitOpen, optimizers: []string{"momentum"},
		field: func(c *Config) any { return &c.Momentum }},
	{name: "decay_rate", section: "train", kind: kindFloat, domain: unitOpen, optimizers: []string{"rmsprop"},
		field: func(c *Config) any { return &c.DecayRate }},
	{name: "beta1", section: "train", kind: kindFloat, domain: unitOpen, optimizers: []string{"adam"},
		field: func(c *Config) any { return &c.Beta1 }},
	{name: "beta2", section: "train", kind: kindFloat, domain: unitOpen, optimizers: []string{"adam"},
		field: func(c *Config) any { return &c.Beta2 }},
	{name: "epsilon", section: "train", kind: kindFloat, domain: positive, optimizers: []string{"rmsprop", "adam"},
		field: func(c *Config) any { return &c.Epsilon }},
}

// lookupParam returns the definition of a searchable key, or nil.
func lookupParam(name string) *paramDef {
	for i := range params {
		if params[i].name == name {
			return &params[i]
		}
	}
	return nil
}

// usedBy reports whether any of the optimizers uses the parameter.
func (p *paramDef) usedBy(optimizers []string) bool {
	if p.optimizers == nil {
		return true
	}
	for _, o := range optimizers {
		if slices.Contains(p.optimizers, o) {
			return true
		}
	}
	return false
}

// check reports what is wrong with a value of the parameter, or "".
func (p *paramDef) check(v any) string {
	switch p.kind {
	case kindFloat:
		if f := v.(float64); !p.domain.contains(f) {
			return fmt.Sprintf("%s is out of range: %s", fmtFloat(f), p.domain.describe(p.name))
		}
	case kindInt:
		if n := v.(int); !p.domain.contains(float64(n)) {
			return fmt.Sprintf("%d is out of range: %s", n, p.domain.describe(p.name))
		}
	case kindString:
		if s := v.(string); !slices.Contains(p.enum, s) {
			return unknownValue(p.name, s, p.enum)
		}
	case kindHidden:
		h := v.([]int)
		if len(h) == 0 {
			return "needs at least one hidden layer size"
		}
		for _, n := range h {
			if n <= 0 {
				return fmt.Sprintf("hidden layer size %d must be positive", n)
			}
			if n > MaxHidden {
				return fmt.Sprintf("hidden layer size %d is more than %d", n, MaxHidden)
			}
		}
	}
	return ""
}

// canonicalText is the config as "key=value" lines in canonical key order,
// with floats in their shortest exact form: the input of trial keys.
func (c Config) canonicalText() string {
	var b strings.Builder
	b.WriteString("sweep-config/v1\n")
	for i := range params {
		p := &params[i]
		fmt.Fprintf(&b, "%s=%s\n", p.name, FormatValue(p.get(&c)))
	}
	return b.String()
}

// Clone returns a deep copy of c.
func (c Config) Clone() Config {
	c.Hidden = slices.Clone(c.Hidden)
	return c
}

// FormatValue formats a parameter value (float64, int, string or []int) the
// way specs and listings show it: floats in their shortest exact form, strings
// quoted, lists in brackets.
func FormatValue(v any) string {
	switch v := v.(type) {
	case float64:
		return fmtFloat(v)
	case int:
		return strconv.Itoa(v)
	case string:
		return quote(v)
	case []int:
		parts := make([]string, len(v))
		for i, n := range v {
			parts[i] = strconv.Itoa(n)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// fmtFloat formats f in its shortest exact form.
func fmtFloat(f float64) string {
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// quote quotes s as a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// quoteList quotes xs and joins them with sep.
func quoteList(xs []string, sep string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = quote(x)
	}
	return strings.Join(q, sep)
}

// unknownValue says that v is not one of the allowed values of what,
// suggesting the likely one or listing them all.
func unknownValue(what, v string, allowed []string) string {
	if s := closest(v, allowed); s != "" {
		return fmt.Sprintf("unknown %s %s (did you mean %s?)", what, quote(v), quote(s))
	}
	return fmt.Sprintf("unknown %s %s (want %s)", what, quote(v), quoteList(allowed, " | "))
}
