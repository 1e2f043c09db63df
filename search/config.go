package search

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sweep-dev/sweep/internal/paramfmt"
)

// Config is the resolved model and training configuration of one trial: the
// fixed settings of the spec with the trial's searched values applied. Its
// fields mirror nn.Config, so the orchestrator maps it field by field.
// Exactly one of Iterations and Epochs is positive.
type Config struct {
	Hidden      []int   // hidden layer sizes; [50] is the coursework's TwoLayerNet
	Activation  string  // relu | swish | tanh
	WeightScale float64 // weights ~ N(0, WeightScale²) when WeightInit is ""
	// WeightInit is "" (weights scaled by WeightScale), "he" or "xavier":
	// weight_scale = "he". With a name, WeightScale holds its default and
	// is unused.
	WeightInit string `json:",omitempty"`
	// Normalization is none | batchnorm | layernorm ("" in configs stored
	// before it existed: none).
	Normalization string `json:",omitempty"`
	// Dropout is the drop probability after each hidden layer's activation:
	// nil for none, one value for every hidden layer, or one per hidden
	// layer (two or more values). Parsing never gives [0] or an empty
	// list: a single 0 is nil.
	Dropout    []float64 `json:",omitempty"`
	Preprocess string    `json:",omitempty"` // mean_image ("": the same) | standardize | none

	DType        string  // float32 | float64
	Optimizer    string  // sgd | momentum | nesterov | rmsprop | adam
	LearningRate float64 // initial learning rate
	LRDecay      float64 // step schedule: multiplies the learning rate once per epoch
	LRSchedule   string  `json:",omitempty"` // step ("": the same) | cosine
	WarmupEpochs int     `json:",omitempty"` // cosine only: epochs of linear warmup
	Patience     int     `json:",omitempty"` // early stopping after Patience epochs without a better val metric; 0: none
	Reg          float64 // L2 strength (with the coursework's 0.5 factor)
	Momentum     float64 // momentum and nesterov only
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
		Hidden:        []int{50},
		Activation:    "relu",
		WeightScale:   1e-4,
		Normalization: "none",
		Preprocess:    "mean_image",
		DType:         "float32",
		Optimizer:     "sgd",
		LearningRate:  1e-3,
		LRDecay:       0.95,
		LRSchedule:    "step",
		Reg:           0,
		Momentum:      0.9,
		Beta1:         0.9,
		Beta2:         0.999,
		Epsilon:       1e-8,
		DecayRate:     0.99,
		BatchSize:     200,
		Iterations:    DefaultIterations,
	}
}

// kind is the type of a parameter's values.
type kind int

const (
	kindFloat   kind = iota // float64
	kindInt                 // int
	kindString              // string, one of enum
	kindHidden              // []int
	kindScale               // float64 in domain, or a string of enum: weight_scale
	kindDropout             // float64 in domain for every layer, or []float64 of two or more, one per layer
)

// floaty reports whether a range of the kind draws floats.
func (k kind) floaty() bool { return k == kindFloat || k == kindScale || k == kindDropout }

// want says what a value of the parameter must be, for messages.
func (p *paramDef) want() string {
	switch p.kind {
	case kindFloat:
		return "a number"
	case kindInt:
		return "an integer"
	case kindString:
		return "a string"
	case kindScale:
		return "a positive number, " + quoteList(p.enum, " or ")
	case kindDropout:
		return "a number or a list of numbers, one per hidden layer"
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
	name    string
	section string // "model" or "train"
	kind    kind
	enum    []string // kindString, kindScale: the allowed strings
	domain  interval // kindFloat, kindInt, kindScale, kindDropout: the allowed numbers
	with    usedWith // the settings it has an effect with; zero: all
	// omitDefault: the key came after trial keys were first computed, so
	// at its default it is left out of the canonical texts (Config.Key,
	// Spec.Canonical), and the sweeps made before it keep their keys.
	omitDefault bool
	field       func(*Config) any // the address of its Config field (weightField for kindScale)
}

// usedWith names the values of a string key (optimizer, lr_schedule) that
// a parameter has an effect with.
type usedWith struct {
	key    string
	values []string
}

// weightField is the field of weight_scale: a number, or the name of an
// initialisation.
type weightField struct {
	scale *float64
	init  *string
}

// get returns the parameter's value in c: for weight_scale the name when
// WeightInit is set, else the number; for dropout a float64 when Dropout
// has at most one value (0 when it has none), else the list.
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
	case *[]float64:
		switch len(*f) {
		case 0:
			return 0.0
		case 1:
			return (*f)[0]
		}
		return *f
	case weightField:
		if *f.init != "" {
			return *f.init
		}
		return *f.scale
	}
	panic("search: bad field of " + p.name) // programmer error
}

// set sets the parameter's value in c; v has one of the parameter's types.
// A dropout of 0 becomes nil, one of p becomes [p]; a weight_scale name
// puts WeightScale back to its default.
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
	case *[]float64:
		switch v := v.(type) {
		case float64:
			*f = nil
			if v != 0 {
				*f = []float64{v}
			}
		case []float64:
			*f = v
		}
	case weightField:
		switch v := v.(type) {
		case float64:
			*f.scale, *f.init = v, ""
		case string:
			*f.scale, *f.init = DefaultConfig().WeightScale, v
		}
	}
}

// params lists the searchable keys in canonical order: [model] then [train].
var params = []paramDef{
	{name: "hidden", section: "model", kind: kindHidden,
		field: func(c *Config) any { return &c.Hidden }},
	{name: "activation", section: "model", kind: kindString, enum: []string{"relu", "swish", "tanh"},
		field: func(c *Config) any { return &c.Activation }},
	{name: "weight_scale", section: "model", kind: kindScale, domain: positive, enum: []string{"he", "xavier"},
		field: func(c *Config) any { return weightField{&c.WeightScale, &c.WeightInit} }},
	{name: "normalization", section: "model", kind: kindString, enum: []string{"none", "batchnorm", "layernorm"}, omitDefault: true,
		field: func(c *Config) any { return &c.Normalization }},
	{name: "dropout", section: "model", kind: kindDropout, domain: unitOpen, omitDefault: true,
		field: func(c *Config) any { return &c.Dropout }},
	{name: "preprocess", section: "model", kind: kindString, enum: []string{"mean_image", "standardize", "none"}, omitDefault: true,
		field: func(c *Config) any { return &c.Preprocess }},
	{name: "dtype", section: "train", kind: kindString, enum: []string{"float32", "float64"},
		field: func(c *Config) any { return &c.DType }},
	{name: "optimizer", section: "train", kind: kindString, enum: []string{"sgd", "momentum", "nesterov", "rmsprop", "adam"},
		field: func(c *Config) any { return &c.Optimizer }},
	{name: "iterations", section: "train", kind: kindInt, domain: positive,
		field: func(c *Config) any { return &c.Iterations }},
	{name: "epochs", section: "train", kind: kindInt, domain: positive,
		field: func(c *Config) any { return &c.Epochs }},
	{name: "batch_size", section: "train", kind: kindInt, domain: positive,
		field: func(c *Config) any { return &c.BatchSize }},
	{name: "learning_rate", section: "train", kind: kindFloat, domain: positive,
		field: func(c *Config) any { return &c.LearningRate }},
	{name: "lr_decay", section: "train", kind: kindFloat, domain: decayDomain, with: usedWith{"lr_schedule", []string{"step"}},
		field: func(c *Config) any { return &c.LRDecay }},
	{name: "lr_schedule", section: "train", kind: kindString, enum: []string{"step", "cosine"}, omitDefault: true,
		field: func(c *Config) any { return &c.LRSchedule }},
	{name: "warmup_epochs", section: "train", kind: kindInt, domain: nonNegative, with: usedWith{"lr_schedule", []string{"cosine"}}, omitDefault: true,
		field: func(c *Config) any { return &c.WarmupEpochs }},
	{name: "reg", section: "train", kind: kindFloat, domain: nonNegative,
		field: func(c *Config) any { return &c.Reg }},
	{name: "momentum", section: "train", kind: kindFloat, domain: unitOpen, with: usedWith{"optimizer", []string{"momentum", "nesterov"}},
		field: func(c *Config) any { return &c.Momentum }},
	{name: "decay_rate", section: "train", kind: kindFloat, domain: unitOpen, with: usedWith{"optimizer", []string{"rmsprop"}},
		field: func(c *Config) any { return &c.DecayRate }},
	{name: "beta1", section: "train", kind: kindFloat, domain: unitOpen, with: usedWith{"optimizer", []string{"adam"}},
		field: func(c *Config) any { return &c.Beta1 }},
	{name: "beta2", section: "train", kind: kindFloat, domain: unitOpen, with: usedWith{"optimizer", []string{"adam"}},
		field: func(c *Config) any { return &c.Beta2 }},
	{name: "epsilon", section: "train", kind: kindFloat, domain: positive, with: usedWith{"optimizer", []string{"rmsprop", "adam"}},
		field: func(c *Config) any { return &c.Epsilon }},
	{name: "patience", section: "train", kind: kindInt, domain: nonNegative, omitDefault: true,
		field: func(c *Config) any { return &c.Patience }},
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

// usedBy reports whether the parameter has an effect with any of values,
// the values of p.with.key in the sweep.
func (p *paramDef) usedBy(values []string) bool {
	if p.with.key == "" {
		return true
	}
	for _, v := range values {
		if slices.Contains(p.with.values, v) {
			return true
		}
	}
	return false
}

// check reports what is wrong with a value of the parameter, or "".
func (p *paramDef) check(v any) string {
	switch v := v.(type) {
	case float64:
		if !p.domain.contains(v) {
			return fmt.Sprintf("%s is out of range: %s", fmtFloat(v), p.domain.describe(p.name))
		}
	case int:
		if !p.domain.contains(float64(v)) {
			return fmt.Sprintf("%d is out of range: %s", v, p.domain.describe(p.name))
		}
	case string:
		if slices.Contains(p.enum, v) {
			return ""
		}
		if p.kind == kindScale {
			hint := ""
			if c := closest(v, p.enum); c != "" {
				hint = fmt.Sprintf(" (did you mean %s?)", quote(c))
			}
			return fmt.Sprintf("%s %s: want %s%s", p.name, quote(v), p.want(), hint)
		}
		return unknownValue(p.name, v, p.enum)
	case []int:
		if len(v) == 0 {
			return "needs at least one hidden layer size"
		}
		for _, n := range v {
			if n <= 0 {
				return fmt.Sprintf("hidden layer size %d must be positive", n)
			}
			if n > MaxHidden {
				return fmt.Sprintf("hidden layer size %d is more than %d", n, MaxHidden)
			}
		}
	case []float64:
		if len(v) == 0 {
			return "empty list: give one drop probability for every hidden layer, or one per hidden layer"
		}
		for _, x := range v {
			if msg := p.check(x); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// canonicalText is the config as "key=value" lines in canonical key order,
// with floats in their shortest exact form: the input of trial keys. Keys
// that came after the first trial keys appear only when they are not at
// their defaults, so the configs of older sweeps keep their keys.
func (c Config) canonicalText() string {
	c = c.WithDefaults()
	d := DefaultConfig()
	var b strings.Builder
	b.WriteString("sweep-config/v1\n")
	for i := range params {
		p := &params[i]
		v := p.get(&c)
		if p.omitDefault && sameValue(v, p.get(&d)) {
			continue
		}
		fmt.Fprintf(&b, "%s=%s\n", p.name, FormatValue(v))
	}
	return b.String()
}

// WithDefaults returns a copy of c in which the settings that configs
// stored before they existed leave empty ("") hold their defaults (see
// DefaultConfig), and a Dropout of one 0 is nil. Both forms behave the
// same and have the same Key.
func (c Config) WithDefaults() Config {
	c = c.Clone()
	d := DefaultConfig()
	for i := range params {
		p := &params[i]
		if !p.omitDefault {
			continue
		}
		v := p.get(&c)
		if v == "" {
			v = p.get(&d)
		}
		p.set(&c, v)
	}
	return c
}

// Clone returns a deep copy of c.
func (c Config) Clone() Config {
	c.Hidden = slices.Clone(c.Hidden)
	c.Dropout = slices.Clone(c.Dropout)
	return c
}

// cloneValue returns a parameter value that shares no list with v.
func cloneValue(v any) any {
	switch v := v.(type) {
	case []int:
		return slices.Clone(v)
	case []float64:
		return slices.Clone(v)
	}
	return v
}

// FormatValue formats a parameter value (float64, int, string, []int or
// []float64) the way specs and listings show it: floats in their shortest
// exact form, strings quoted, lists in brackets. It is the input of trial
// keys (Config.Key): its output for those types never changes.
func FormatValue(v any) string { return specStyle.Format(v) }

// specStyle is the spec form of a value, the TOML syntax of its types.
var specStyle = paramfmt.Style{Float: fmtFloat, Quote: quote, Sep: ", "}

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
